// cbir_collection_backup (issue 18): a consistent copy while a writer keeps adding and
// committing; the copy opens as it is, verifies, and holds every item committed before the
// backup started with the same vector and uri.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include "test_store_util.hpp"

using namespace store_test;
namespace fs = std::filesystem;

TEST_CASE("a backup taken during an ingest holds every committed item and verifies") {
  TempDir tmp;
  const size_t dim = 16, batch = 50;
  const std::string path = tmp.sub("live");
  Handle writer = create(path, dim, "hnsw");
  std::atomic<size_t> committed{0};
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  // The C API only on this thread: Catch2's assertions are not thread-safe.
  std::thread ingest([&] {
    for (size_t round = 0; !stop && round < 400; ++round) {
      const auto v = unit_vectors(batch, dim, uint32_t(round));
      const auto u = uris("img/", batch, round * batch);
      auto items = items_for(u);
      std::vector<int64_t> ids(batch);
      if (cbir_collection_add(ids.data(), writer.get(), items.data(), v.data(), batch, dim) != CBIR_OK ||
          cbir_collection_commit(writer.get()) != CBIR_OK ||
          (round % 25 == 24 && cbir_collection_save(writer.get()) != CBIR_OK)) {  // a snapshot now and then
        ++failures;
        return;
      }
      committed = (round + 1) * batch;
    }
  });
  while (committed < 20 * batch && failures == 0) std::this_thread::yield();

  // From a second handle, as another process would (a reader of the same folder).
  Handle reader = open(path, CBIR_OPEN_READONLY);
  std::vector<size_t> before;
  for (int i = 0; i < 3; ++i) {
    before.push_back(committed);
    ok(cbir_collection_backup(reader.get(), tmp.sub("copy" + std::to_string(i)).c_str()));
  }
  stop = true;
  ingest.join();
  REQUIRE(failures == 0);

  for (int i = 0; i < 3; ++i) {
    const std::string copy = tmp.sub("copy" + std::to_string(i));
    Handle c = open(copy, CBIR_OPEN_READONLY);
    ok(cbir_collection_verify(c.get()));
    const uint64_t n = count(c.get());
    CHECK(n >= before[size_t(i)]);
    CHECK(n % batch == 0);  // whole commits only
    // Each item as the original has it.
    std::vector<float> got(dim), want(dim);
    for (int64_t id : all_ids(c.get())) {
      ok(cbir_collection_get_vector(got.data(), dim, c.get(), id));
      ok(cbir_collection_get_vector(want.data(), dim, writer.get(), id));
      REQUIRE(got == want);
    }
    // And it is a collection of its own: it takes writes.
    Handle w = open(copy);
    add(w.get(), {"extra"}, unit_vectors(1, dim, 999), dim);
    ok(cbir_collection_commit(w.get()));
    CHECK(count(w.get()) == n + 1);
  }
}

TEST_CASE("a backup refuses an existing destination and leaves nothing when it fails") {
  TempDir tmp;
  Handle c = create(tmp.sub("src"), 8);
  add(c.get(), {"a"}, unit_vectors(1, 8, 1), 8);
  ok(cbir_collection_commit(c.get()));
  fs::create_directory(tmp.sub("taken"));
  CHECK(cbir_collection_backup(c.get(), tmp.sub("taken").c_str()) == CBIR_EEXIST);
  CHECK(cbir_collection_backup(c.get(), nullptr) == CBIR_EINVAL);
  CHECK(cbir_collection_backup(c.get(), "") == CBIR_EINVAL);
  // A destination whose parent is missing: an I/O error, and no hidden leftovers.
  CHECK(cbir_collection_backup(c.get(), tmp.sub("no/such/parent").c_str()) == CBIR_EIO);
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) entries += e.is_directory();
  CHECK(entries == 2);  // src and taken
}
