// Stored vectors carry a checksum (XXH3-64, issue 18): bit rot inside a vector row, which
// SQLite's own integrity check cannot see, is reported by verify, by reading the vector and by
// rebuilding the index from the catalog, and is never indexed silently. Collections made before
// the checksums gain the column when a writer opens them.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_store_util.hpp"

using namespace store_test;
namespace fs = std::filesystem;

namespace {

std::vector<char> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
}

int status_str_contains(int status, const char* text) {
  return status != CBIR_OK && std::string(cbir_last_error()).find(text) != std::string::npos;
}

void sql(const std::string& db, const char* statement) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(h, statement, nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(h);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("a flipped byte inside a stored vector is found, never indexed") {
  TempDir tmp;
  const size_t dim = 32;
  const std::string path = tmp.sub("c");
  const std::vector<float> vecs = unit_vectors(50, dim, 3);
  std::vector<int64_t> ids;
  std::vector<float> stored(dim);  // item 17's vector as the catalog holds it, to find it there
  {
    Handle c = create(path, dim);
    ids = add(c.get(), uris("p/", 50), vecs, dim);
    ok(cbir_collection_compact(c.get()));  // checkpointed into catalog.sqlite
    ok(cbir_collection_get_vector(stored.data(), dim, c.get(), ids[17]));
  }
  const std::string catalog = path + "/catalog.sqlite";
  std::vector<char> bytes = read_file(catalog);
  const char* needle = reinterpret_cast<const char*>(stored.data());
  auto at = std::search(bytes.begin(), bytes.end(), needle, needle + dim * sizeof(float));
  REQUIRE(at != bytes.end());
  at[40] ^= 0x10;  // one bit of one float
  write_file(catalog, bytes);

  Handle c = open(path, CBIR_OPEN_READONLY);
  CHECK(status_str_contains(cbir_collection_verify(c.get()), "fail their checksum"));
  std::vector<float> out(dim);
  CHECK(status_str_contains(cbir_collection_get_vector(out.data(), dim, c.get(), ids[17]),
                            "fails its checksum"));
  ok(cbir_collection_get_vector(out.data(), dim, c.get(), ids[16]));  // the others read fine
  c.reset();

  // Without the snapshot the index is rebuilt from the catalog: the damage stops the open.
  fs::remove(path + "/index.snap");
  cbir_collection_t* h = nullptr;
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
  o.flags = CBIR_OPEN_READONLY;
  CHECK(cbir_collection_open(&h, path.c_str(), &o) == CBIR_ECORRUPT);
  CHECK(std::string(cbir_last_error()).find("item " + std::to_string(ids[17])) != std::string::npos);
}

TEST_CASE("a collection from before the checksums gains them when written") {
  TempDir tmp;
  const size_t dim = 8;
  const std::string path = tmp.sub("old");
  {
    Handle c = create(path, dim);
    add(c.get(), uris("a/", 5), unit_vectors(5, dim, 1), dim);
    ok(cbir_collection_commit(c.get()));
  }
  // As an older cbir left it: no checksum column.
  sql(path + "/catalog.sqlite", "ALTER TABLE vectors DROP COLUMN sum");
  {
    Handle r = open(path, CBIR_OPEN_READONLY);  // a reader reads it as it is
    CHECK(count(r.get()) == 5);
    ok(cbir_collection_verify(r.get()));
  }
  Handle w = open(path);  // a writer adds the column; old rows stay without a checksum
  add(w.get(), uris("b/", 5), unit_vectors(5, dim, 2), dim);
  ok(cbir_collection_commit(w.get()));
  ok(cbir_collection_verify(w.get()));
  w.reset();
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open((path + "/catalog.sqlite").c_str(), &h) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, "SELECT count(sum), count(*) FROM vectors", -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(sqlite3_column_int(s, 0) == 5);  // the new rows
  CHECK(sqlite3_column_int(s, 1) == 10);
  sqlite3_finalize(s);
  sqlite3_close(h);
}
