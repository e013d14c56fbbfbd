// Vector spaces (issue 20), at the store: a collection holding two models' vectors of the same
// items, each space searched on its own index, kept through writes, reopening, replay after a
// commit without a save, readers' refresh, rebuild, compact and verify; and an older
// collection opening as one space. Each search is checked against an exact reference.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "store/backup.hpp"
#include "store/collection.hpp"
#include "test_store_util.hpp"

using namespace store_test;
using cbir::store::Collection;
using cbir::store::ItemInfo;
using cbir::store::SearchFilter;
using cbir::store::SearchKnobs;
using cbir::store::SpaceVectors;

namespace {

constexpr size_t kClip = 8, kDino = 12;

// The items and their vectors in each space, as the test wrote them (the reference).
struct World {
  std::map<int64_t, std::vector<float>> clip, dino;
};

std::vector<ItemInfo> items_named(const std::vector<std::string>& uris) {
  std::vector<ItemInfo> out(uris.size());
  for (size_t i = 0; i < uris.size(); ++i) out[i].uri = uris[i];
  return out;
}

std::unique_ptr<Collection> open_collection(const std::string& path, bool create, bool read_only = false) {
  cbir::store::OpenOptions o;
  o.create = create;
  o.read_only = read_only;
  if (create) {
    o.dim = kClip;
    o.fingerprint = "clip-model";
    o.index_spec = "flat";
    o.space = "clip";
  }
  return std::make_unique<Collection>(path, o);
}

// Adds n items with a vector in both spaces (or only clip), recording them in w.
std::vector<int64_t> add_items(Collection& c, World& w, const std::string& prefix, size_t n,
                               uint32_t seed, bool with_dino = true, bool upsert = false) {
  const auto u = uris(prefix, n);
  const auto items = items_named(u);
  const auto cv = unit_vectors(n, kClip, seed), dv = unit_vectors(n, kDino, seed + 1000);
  SpaceVectors extra{"dino", dv.data(), kDino};
  const auto ids = c.add(items.data(), cv.data(), n, kClip, upsert, with_dino ? &extra : nullptr,
                         with_dino ? 1 : 0);
  for (size_t i = 0; i < n; ++i) {
    w.clip[ids[i]].assign(cv.begin() + long(i * kClip), cv.begin() + long((i + 1) * kClip));
    if (with_dino) w.dino[ids[i]].assign(dv.begin() + long(i * kDino), dv.begin() + long((i + 1) * kDino));
    else w.dino.erase(ids[i]);
  }
  return ids;
}

std::vector<int64_t> top(Collection& c, const std::string& space, const float* q, size_t dim, size_t k) {
  std::vector<int64_t> ids(k);
  std::vector<float> scores(k);
  c.search(q, 1, dim, k, SearchFilter{}, -INFINITY, SearchKnobs{}, scores.data(), ids.data(), space);
  while (!ids.empty() && ids.back() < 0) ids.pop_back();
  return ids;
}

std::vector<int64_t> reference(const std::map<int64_t, std::vector<float>>& space, const float* q,
                               size_t dim, size_t k) {
  std::vector<int64_t> ids;
  std::vector<float> vecs;
  for (auto& [id, v] : space) {
    ids.push_back(id);
    vecs.insert(vecs.end(), v.begin(), v.end());
  }
  return exact_top(ids, vecs, dim, q, k);
}

// Every space answers as the reference does, for a few queries.
void check_answers(Collection& c, const World& w, uint32_t seed = 77) {
  const auto qc = unit_vectors(5, kClip, seed), qd = unit_vectors(5, kDino, seed + 1);
  for (size_t q = 0; q < 5; ++q) {
    CHECK(top(c, "clip", qc.data() + q * kClip, kClip, 10) == reference(w.clip, qc.data() + q * kClip, kClip, 10));
    CHECK(top(c, "", qc.data() + q * kClip, kClip, 10) == reference(w.clip, qc.data() + q * kClip, kClip, 10));
    CHECK(top(c, "dino", qd.data() + q * kDino, kDino, 10) == reference(w.dino, qd.data() + q * kDino, kDino, 10));
  }
  const auto spaces = c.spaces();
  REQUIRE(spaces.size() >= 2);
  CHECK(spaces[0].name == "clip");
  CHECK(spaces[0].count == w.clip.size());
  CHECK(spaces[1].name == "dino");
  CHECK(spaces[1].count == w.dino.size());
}

int code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const cbir::Error& e) {
    return e.code();
  }
  return CBIR_OK;
}

void sql(const std::string& path, const std::string& statement) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((path + "/catalog.sqlite").c_str(), &db) == SQLITE_OK);
  const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr);
  INFO(sqlite3_errmsg(db));
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("two spaces: each searched on its own, kept through reopen, replay and refresh", "[spaces]") {
  TempDir dir;
  const std::string path = dir.sub("c");
  World w;
  auto c = open_collection(path, true);
  c->add_space("dino", kDino, "dino-model", "flat");
  const auto ids = add_items(*c, w, "img/", 300, 1);
  check_answers(*c, w);
  std::vector<float> got(kDino);
  REQUIRE(c->vector(ids[3], got.data(), kDino, "dino"));
  CHECK(dot(got.data(), w.dino[ids[3]].data(), kDino) == Approx(1.0f).epsilon(1e-5));

  // Saved: both snapshots, loaded as they are.
  c->save();
  CHECK(std::filesystem::exists(path + "/index.snap"));
  CHECK(std::filesystem::exists(path + "/index.dino.snap"));
  c.reset();
  c = open_collection(path, false);
  check_answers(*c, w);

  // Written again without a dino vector: the item leaves the dino space. Removed: both.
  add_items(*c, w, "img/", 10, 50, /*with_dino=*/false, /*upsert=*/true);
  REQUIRE(c->remove(&ids[20], 1) == 1);
  w.clip.erase(ids[20]);
  w.dino.erase(ids[20]);
  check_answers(*c, w);
  CHECK_FALSE(c->vector(ids[0], got.data(), kDino, "dino"));

  // A reader sees the committed state, then refreshes to the next.
  c->commit();
  auto reader = open_collection(path, false, /*read_only=*/true);
  check_answers(*reader, w);
  add_items(*c, w, "more/", 40, 9);
  c->commit();
  reader->refresh();
  check_answers(*reader, w);

  // Committed, not saved: the snapshots are behind and reopening replays every space.
  c.reset();  // the destructor saves: drop the snapshots' work by writing through a new handle
  c = open_collection(path, false);
  add_items(*c, w, "late/", 25, 11);
  const auto late_gone = c->ids_with_uri_prefix("late/1");
  REQUIRE(c->remove(late_gone.data(), late_gone.size()) == late_gone.size());
  for (auto id : late_gone) {
    w.clip.erase(id);
    w.dino.erase(id);
  }
  c->commit();
  {
    // Another handle's view is the catalog plus the old snapshots: the replay path.
    auto replayed = open_collection(path, false, /*read_only=*/true);
    check_answers(*replayed, w);
  }
  reader->refresh();
  check_answers(*reader, w);

  // A lost snapshot of the second space is rebuilt from its stored vectors, with a warning.
  c.reset();
  reader.reset();
  std::filesystem::remove(path + "/index.dino.snap");
  LogCapture log;
  c = open_collection(path, false);
  CHECK(log.saw("space 'dino'"));
  check_answers(*c, w);
  c->verify();

  // A backup holds every space's snapshot, and answers alike.
  c->save();
  cbir::store::backup_collection(path, dir.sub("copy"));
  CHECK(std::filesystem::exists(dir.sub("copy") + "/index.dino.snap"));
  LogCapture quiet;
  auto copy = open_collection(dir.sub("copy"), false, true);
  CHECK_FALSE(quiet.saw("rebuilding"));
  check_answers(*copy, w);
}

TEST_CASE("spaces: filling a space added later, rebuild and compact of each", "[spaces]") {
  TempDir dir;
  const std::string path = dir.sub("c");
  World w;
  auto c = open_collection(path, true);
  c->add_space("dino", kDino, "dino-model", "flat");
  const auto ids = add_items(*c, w, "a/", 200, 3);

  c->add_space("late", 6, "late-model", "flat");
  std::vector<int64_t> half(ids.begin(), ids.begin() + 100);
  const auto lv = unit_vectors(half.size(), 6, 5);
  c->set_space_vectors("late", half.data(), lv.data(), half.size(), 6);
  auto spaces = c->spaces();
  REQUIRE(spaces.size() == 3);
  CHECK(spaces[2].name == "late");
  CHECK(spaces[2].count == 100);
  // The nearest neighbour of an item's own vector is itself, in the space that has it.
  for (size_t i = 0; i < half.size(); i += 17)
    CHECK(top(*c, "late", lv.data() + i * 6, 6, 1) == std::vector<int64_t>{half[i]});
  // All or nothing: an unknown id writes nothing.
  std::vector<int64_t> bad{ids[150], 999999};
  const auto bv = unit_vectors(2, 6, 8);
  CHECK(code_of([&] { c->set_space_vectors("late", bad.data(), bv.data(), 2, 6); }) == CBIR_ENOTFOUND);
  CHECK(c->spaces()[2].count == 100);
  std::vector<float> got(6);
  CHECK_FALSE(c->vector(ids[150], got.data(), 6, "late"));

  // Rebuild one space with another spec; compact after removals keeps every space right.
  c->rebuild("hnsw:M=16", "dino");
  spaces = c->spaces();
  CHECK(spaces[0].effective_spec == "flat");
  CHECK(spaces[1].effective_spec.rfind("hnsw", 0) == 0);
  std::vector<int64_t> gone(ids.begin() + 100, ids.begin() + 160);
  REQUIRE(c->remove(gone.data(), gone.size()) == gone.size());
  for (auto id : gone) {
    w.clip.erase(id);
    w.dino.erase(id);
  }
  c->compact();
  c.reset();
  c = open_collection(path, false);
  spaces = c->spaces();
  CHECK(spaces[1].effective_spec.rfind("hnsw", 0) == 0);
  CHECK(spaces[1].count == w.dino.size());
  CHECK(spaces[2].count == 100);
  // HNSW finds the item's own vector first.
  for (auto& [id, v] : w.dino)
    if (id % 13 == 0) CHECK(top(*c, "dino", v.data(), kDino, 1) == std::vector<int64_t>{id});
  const auto qc = unit_vectors(3, kClip, 4);
  CHECK(top(*c, "clip", qc.data(), kClip, 10) == reference(w.clip, qc.data(), kClip, 10));
  c->verify();
}

TEST_CASE("spaces: clear errors, nothing written", "[spaces]") {
  TempDir dir;
  const std::string path = dir.sub("c");
  World w;
  auto c = open_collection(path, true);
  CHECK(code_of([&] { c->add_space("Dino", kDino, "m", "flat"); }) == CBIR_EINVAL);
  CHECK(code_of([&] { c->add_space("", kDino, "m", "flat"); }) == CBIR_EINVAL);
  CHECK(code_of([&] { c->add_space("a/b", kDino, "m", "flat"); }) == CBIR_EINVAL);
  CHECK(code_of([&] { c->add_space("dino", 0, "m", "flat"); }) == CBIR_EINVAL);
  CHECK(code_of([&] { c->add_space("dino", kDino, "", "flat"); }) == CBIR_EINVAL);
  CHECK(code_of([&] { c->add_space("dino", kDino, "m", "nonsense"); }) == CBIR_EINVAL);
  CHECK(code_of([&] { c->add_space("clip", kDino, "m", "flat"); }) == CBIR_EEXIST);
  c->add_space("dino", kDino, "dino-model", "flat");
  CHECK(code_of([&] { c->add_space("dino", kDino, "m", "flat"); }) == CBIR_EEXIST);

  add_items(*c, w, "x/", 20, 1);
  const auto u = uris("y/", 2);
  const auto items = items_named(u);
  const auto cv = unit_vectors(2, kClip, 2), dv = unit_vectors(2, kDino, 3), wrong = unit_vectors(2, 5, 4);
  SpaceVectors unknown{"nope", dv.data(), kDino}, first{"clip", cv.data(), kClip};
  SpaceVectors short_dim{"dino", wrong.data(), 5};
  SpaceVectors twice[2] = {{"dino", dv.data(), kDino}, {"dino", dv.data(), kDino}};
  CHECK(code_of([&] { c->add(items.data(), cv.data(), 2, kClip, false, &unknown, 1); }) == CBIR_ENOTFOUND);
  CHECK(code_of([&] { c->add(items.data(), cv.data(), 2, kClip, false, &first, 1); }) == CBIR_EINVAL);
  CHECK(code_of([&] { c->add(items.data(), cv.data(), 2, kClip, false, &short_dim, 1); }) == CBIR_EMISMATCH);
  CHECK(code_of([&] { c->add(items.data(), cv.data(), 2, kClip, false, twice, 2); }) == CBIR_EINVAL);
  CHECK(c->count() == 20);
  CHECK(code_of([&] { top(*c, "nope", cv.data(), kClip, 3); }) == CBIR_ENOTFOUND);
  CHECK(code_of([&] { top(*c, "dino", cv.data(), kClip, 3); }) == CBIR_EMISMATCH);
  CHECK(code_of([&] { c->set_space_vectors("clip", nullptr, nullptr, 0, kClip); }) == CBIR_EINVAL);
  check_answers(*c, w);

  auto reader = open_collection(path, false, true);
  CHECK(code_of([&] { reader->add_space("more", 4, "m", "flat"); }) == CBIR_EINVAL);
}

TEST_CASE("spaces: a collection made before spaces opens as one space named 'default'", "[spaces]") {
  TempDir dir;
  const std::string path = dir.sub("c");
  World w;
  {
    auto c = open_collection(path, true);
    c->add_space("dino", kDino, "dino-model", "flat");
    add_items(*c, w, "old/", 50, 6, /*with_dino=*/false);
  }
  // What an older cbir made: no spaces tables, no name for its one space.
  sql(path, "DROP TABLE space_vectors; DROP TABLE spaces; DELETE FROM meta WHERE key = 'space'");
  std::filesystem::remove(path + "/index.dino.snap");
  {
    auto reader = open_collection(path, false, true);
    const auto spaces = reader->spaces();
    REQUIRE(spaces.size() == 1);
    CHECK(spaces[0].name == "default");
    CHECK(spaces[0].count == 50);
  }
  auto c = open_collection(path, false);  // a writer adds the tables
  c->add_space("dino", kDino, "dino-model", "flat");
  const auto ids = c->ids_after(-1, 1000);
  const auto dv = unit_vectors(ids.size(), kDino, 12);
  c->set_space_vectors("dino", ids.data(), dv.data(), ids.size(), kDino);
  for (size_t i = 0; i < ids.size(); i += 7)
    CHECK(top(*c, "dino", dv.data() + i * kDino, kDino, 1) == std::vector<int64_t>{ids[i]});
  CHECK(c->spaces()[0].name == "default");
  c->verify();
}

TEST_CASE("spaces: verify finds a damaged vector of the second space", "[spaces]") {
  TempDir dir;
  const std::string path = dir.sub("c");
  World w;
  {
    auto c = open_collection(path, true);
    c->add_space("dino", kDino, "dino-model", "flat");
    add_items(*c, w, "v/", 30, 2);
  }
  sql(path, "UPDATE space_vectors SET vector = zeroblob(48) WHERE id = (SELECT min(id) FROM space_vectors)");
  auto c = open_collection(path, false);
  std::vector<std::string> failed;
  const int status = c->verify_report([&](const char* check, int s, const std::string& message) {
    if (s != CBIR_OK) failed.push_back(std::string(check) + ": " + message);
  });
  CHECK(status == CBIR_ECORRUPT);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].find("vectors: 1 stored vectors (space 'dino')") == 0);
}

TEST_CASE("spaces through the C API", "[spaces][capi]") {
  TempDir dir;
  cbir_collection_options_t o;
  cbir_collection_options_init(&o);
  o.flags = CBIR_OPEN_CREATE;
  o.dim = kClip;
  o.fingerprint = "clip-model";
  o.index_spec = "flat";
  o.space = "clip";
  cbir_collection_t* raw = nullptr;
  ok(cbir_collection_open(&raw, dir.sub("c").c_str(), &o));
  Handle c(raw);
  ok(cbir_collection_add_space(c.get(), "dino", kDino, "dino-model", nullptr));
  CHECK(cbir_collection_add_space(c.get(), "dino", kDino, "dino-model", nullptr) == CBIR_EEXIST);
  CHECK(cbir_collection_add_space(c.get(), nullptr, kDino, "m", nullptr) == CBIR_EINVAL);

  // Pairs of near-identical items in dino only: duplicates differ by space.
  const size_t n = 6;
  auto cv = unit_vectors(n, kClip, 1), dv = unit_vectors(n, kDino, 2);
  for (size_t j = 0; j < kDino; ++j) dv[1 * kDino + j] = dv[0 * kDino + j];
  auto items = items_for(uris("p/", n));
  cbir_space_vectors_t both[2] = {{nullptr, cv.data(), kClip}, {"dino", dv.data(), kDino}};
  std::vector<int64_t> ids(n);
  ok(cbir_collection_add_spaces(ids.data(), c.get(), items.data(), n, both, 2, 0));
  cbir_space_vectors_t dino_only[1] = {{"dino", dv.data(), kDino}};
  CHECK(cbir_collection_add_spaces(nullptr, c.get(), items.data(), n, dino_only, 1, 1) == CBIR_EINVAL);
  CHECK(std::string(cbir_last_error()).find("first space 'clip'") != std::string::npos);
  cbir_space_vectors_t twice[2] = {{nullptr, cv.data(), kClip}, {"clip", cv.data(), kClip}};
  CHECK(cbir_collection_add_spaces(nullptr, c.get(), items.data(), n, twice, 2, 1) == CBIR_EINVAL);
  CHECK(cbir_collection_add_spaces(nullptr, c.get(), items.data(), n, both, 2, 2) == CBIR_EINVAL);

  cbir_space_info_t* infos = nullptr;
  size_t n_spaces = 0;
  ok(cbir_collection_spaces(&infos, &n_spaces, c.get()));
  REQUIRE(n_spaces == 2);
  CHECK(std::string(infos[0].name) == "clip");
  CHECK(infos[0].first == 1);
  CHECK(std::string(infos[1].name) == "dino");
  CHECK(std::string(infos[1].fingerprint) == "dino-model");
  CHECK(infos[1].dim == int32_t(kDino));
  CHECK(infos[1].count == n);
  cbir_free(infos);

  std::vector<float> got(kDino);
  ok(cbir_collection_get_space_vector(got.data(), kDino, c.get(), "dino", ids[4]));
  CHECK(dot(got.data(), dv.data() + 4 * kDino, kDino) == Approx(1.0f).epsilon(1e-5));
  CHECK(cbir_collection_get_space_vector(got.data(), kDino, c.get(), "none", ids[4]) == CBIR_ENOTFOUND);

  cbir_search_options_t so;
  cbir_search_options_init(&so);
  so.space = "dino";
  auto r = search(c.get(), dv.data() + 3 * kDino, 1, kDino, 1, &so);
  CHECK(r.ids[0] == ids[3]);
  int64_t* dup_ids = nullptr;
  size_t* offsets = nullptr;
  size_t groups = 0;
  ok(cbir_collection_duplicates(&dup_ids, &offsets, &groups, c.get(), 0.999f, &so, nullptr, nullptr));
  REQUIRE(groups == 1);
  CHECK(dup_ids[0] == ids[0]);
  CHECK(dup_ids[1] == ids[1]);
  cbir_free(dup_ids);
  cbir_free(offsets);
  ok(cbir_collection_duplicates(&dup_ids, &offsets, &groups, c.get(), 0.999f, nullptr, nullptr, nullptr));
  CHECK(groups == 0);
  int64_t* range_ids = nullptr;
  float* range_scores = nullptr;
  size_t hits = 0;
  ok(cbir_collection_range_search(&range_ids, &range_scores, &hits, c.get(), dv.data(), kDino, 0.999f, &so));
  CHECK(hits == 2);
  cbir_free(range_ids);
  cbir_free(range_scores);

  ok(cbir_collection_add_space(c.get(), "late", 3, "late-model", "flat"));
  const float late[3] = {1, 2, 3};
  ok(cbir_collection_set_space_vectors(c.get(), "late", &ids[2], late, 1, 3));
  CHECK(cbir_collection_set_space_vectors(c.get(), nullptr, &ids[2], late, 1, 3) == CBIR_EINVAL);
  ok(cbir_collection_rebuild_space(c.get(), "late", "hnsw:M=8"));
  CHECK(cbir_collection_rebuild_space(c.get(), "late", "") == CBIR_EINVAL);
  ok(cbir_collection_spaces(&infos, &n_spaces, c.get()));
  REQUIRE(n_spaces == 3);
  CHECK(infos[2].count == 1);
  CHECK(std::string(infos[2].effective_spec).rfind("hnsw", 0) == 0);
  cbir_free(infos);
}
