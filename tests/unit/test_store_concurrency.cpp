// Many threads search -- through the writer's handle and through a read-only handle that another
// thread keeps refreshing -- while one thread adds, removes, upserts, commits, rebuilds and
// compacts, and another upserts and commits through the same handle. Meanwhile a second process
// tries to write (it must get CBIR_ELOCKED naming this process) and reads (it must see the last
// commit and search it). Run under ThreadSanitizer by `scripts/test --tsan`.
#include <catch2/catch.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_store_util.hpp"

extern char** environ;

using namespace store_test;

namespace {

constexpr size_t kDim = 32;
constexpr size_t kStable = 400;  // items never touched by the writer: always findable

// Runs the probe helper on `path` and returns what it printed (stdout); CHECKs its exit.
std::string run_probe(const std::string& path, const std::string& uri) {
  int out[2];
  REQUIRE(::pipe(out) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  std::string helper = CBIR_STORE_PROBE_HELPER;
  char* argv[] = {helper.data(), const_cast<char*>(path.c_str()), const_cast<char*>(uri.c_str()), nullptr};
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, helper.c_str(), &fa, nullptr, argv, environ) == 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t r; (r = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, size_t(r));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  INFO("probe output: " << text);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  return text;
}

}  // namespace

TEST_CASE("threads search while one writes; another process is locked out but reads") {
  TempDir dir;
  const std::string path = dir.sub("c");
  auto w = create(path, kDim, "flat");
  const auto stable_v = unit_vectors(kStable, kDim, 41);
  const auto stable_ids = add(w.get(), uris("keep", kStable), stable_v, kDim);
  ok(cbir_collection_commit(w.get()));
  auto r = open(path, CBIR_OPEN_READONLY);

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::mutex first_mu;
  std::string first_failure;  // what went wrong first, for the report
  auto fail = [&](const std::string& what) {
    std::lock_guard<std::mutex> l(first_mu);
    if (failures++ == 0) first_failure = what + ": " + cbir_last_error();
  };
  constexpr int kSearchers = 6;
  std::vector<std::atomic<size_t>> done(kSearchers + 2);
  std::vector<std::thread> threads;
  for (int t = 0; t < kSearchers; ++t) {
    // Four search the writer's handle, two the reader's.
    const cbir_collection_t* c = t < 4 ? w.get() : r.get();
    threads.emplace_back([&, t, c] {
      std::vector<int64_t> ids(5);
      std::vector<float> scores(5);
      for (size_t i = size_t(t); !stop; i += kSearchers) {
        const size_t s = (i * 7) % kStable;
        const cbir_search_options_t* o = nullptr;
        cbir_search_options_t prefix = CBIR_SEARCH_OPTIONS_INIT;
        prefix.uri_prefix = "keep";
        if (i % 3 == 0) o = &prefix;
        if (cbir_collection_search(ids.data(), scores.data(), c, stable_v.data() + s * kDim, 1, kDim, 5, o) != CBIR_OK)
          fail("search");
        else if (ids[0] != stable_ids[s] || scores[0] < 0.999f)
          fail("thread " + std::to_string(t) + ": item " + std::to_string(stable_ids[s]) + " not first but " +
               std::to_string(ids[0]) + " (" + std::to_string(scores[0]) + ")");
        for (size_t j = 1; j < 5; ++j)
          if (scores[j] > scores[j - 1]) fail("scores out of order");
        uint64_t n = 0;
        if (cbir_collection_count(&n, c) != CBIR_OK || n < kStable) fail("count");
        ++done[size_t(t)];
      }
    });
  }
  // The reader's handle takes in the writer's commits while it is searched.
  threads.emplace_back([&] {
    while (!stop) {
      if (cbir_collection_refresh(r.get()) != CBIR_OK) fail("refresh");
      ++done[kSearchers];
    }
  });
  // A second writing thread on the same handle: writes are serialized by the handle, so its
  // upserts of one item interleave with the main writer's calls whole. A bounded number, each
  // with a new vector: HNSW only masks a replaced vector, and thousands of masked copies of one
  // vector cut its graph apart until compact (found by this test; see docs/guarantees.md).
  constexpr size_t kOtherUpserts = 100;
  const auto other_v = unit_vectors(kOtherUpserts, kDim, 43);
  threads.emplace_back([&] {
    auto item = items_for({"other"});
    for (size_t i = 0; !stop; ++i) {
      if (i < kOtherUpserts &&
          (cbir_collection_upsert(nullptr, w.get(), item.data(), other_v.data() + i * kDim, 1, kDim) != CBIR_OK ||
           cbir_collection_commit(w.get()) != CBIR_OK))
        fail("upsert and commit");
      if (i >= kOtherUpserts) std::this_thread::yield();
      ++done[kSearchers + 1];
    }
  });
  auto wait_for_every_thread = [&] {
    std::vector<size_t> before(done.size());
    for (size_t t = 0; t < done.size(); ++t) before[t] = done[t];
    for (size_t t = 0; t < done.size(); ++t)
      while (done[t] == before[t] && failures == 0) std::this_thread::yield();
  };
  wait_for_every_thread();

  const auto churn_v = unit_vectors(12 * 60, kDim, 42);
  std::vector<int64_t> churn;
  for (int round = 0; round < 12; ++round) {
    const auto first = churn_v.begin() + long(round * 60 * kDim);
    auto ids = add(w.get(), uris("x" + std::to_string(round) + "-", 50), std::vector<float>(first, first + 50 * long(kDim)), kDim);
    if (round > 0) {
      // Replace ten of the previous round's, remove twenty.
      auto up = items_for(uris("x" + std::to_string(round - 1) + "-", 10));
      ok(cbir_collection_upsert(nullptr, w.get(), up.data(), &*(first + 50 * long(kDim)), 10, kDim));
      size_t removed = 0;
      ok(cbir_collection_remove(&removed, w.get(), churn.data() + churn.size() - 40, 20));
      CHECK(removed == 20);
    }
    churn.insert(churn.end(), ids.begin(), ids.end());
    ok(cbir_collection_commit(w.get()));
    if (round == 3) ok(cbir_collection_rebuild(w.get(), "hnsw:M=16,efSearch=256"));
    if (round == 6) ok(cbir_collection_compact(w.get()));
    if (round == 8) ok(cbir_collection_save(w.get()));
    if (round == 9) ok(cbir_collection_rebuild(w.get(), "flat"));
    if (round == 5 || round == 10) {
      // Between commits: the other process sees exactly what is committed.
      const std::string text = run_probe(path, "keep17");
      INFO(text);
      std::istringstream lines(text);
      std::string word;
      int status = 0;
      lines >> word >> status;
      CHECK(word == "writer");
      CHECK(status == CBIR_ELOCKED);
      CHECK(text.find("process " + std::to_string(::getpid())) != std::string::npos);
      std::getline(lines, word);
      uint64_t n = 0;
      int64_t top = -2, id = -3;
      lines >> word >> n >> top >> id;
      CHECK(word == "reader");
      CHECK(n == count(w.get()));
      CHECK(id == stable_ids[17]);
      CHECK(top == id);
    }
  }
  wait_for_every_thread();  // every thread ran across the last writes
  stop = true;
  for (auto& t : threads) t.join();
  INFO(first_failure);
  CHECK(failures == 0);
  const uint64_t expected = kStable + 12 * 50 - 11 * 20 + 1;  // + "other"
  CHECK(count(w.get()) == expected);
  ok(cbir_collection_verify(w.get()));
  ok(cbir_collection_refresh(r.get()));
  CHECK(count(r.get()) == expected);
  ok(cbir_collection_verify(r.get()));
}
