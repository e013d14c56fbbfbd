// The C ABI's foundation: firewall, per-thread errors, options versions, status texts, logging.
#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "c_api/guard.hpp"
#include "cbir.h"
#include "own_malloc.hpp"
#include "common/log.hpp"

using cbir::capi::guard;

TEST_CASE("guard turns every kind of exception into a status and a message") {
  CHECK(guard([] {}) == CBIR_OK);
  CHECK(std::string(cbir_last_error()).empty());

  CHECK(guard([] { cbir::fail(CBIR_ENOTFOUND, "no such item 42"); }) == CBIR_ENOTFOUND);
  CHECK(std::string(cbir_last_error()) == "no such item 42");

  CHECK(guard([] { throw std::bad_alloc(); }) == CBIR_ENOMEM);
  CHECK(std::string(cbir_last_error()) == "out of memory");

  CHECK(guard([] { throw std::runtime_error("boom"); }) == CBIR_EINTERNAL);
  CHECK(std::string(cbir_last_error()).find("boom") != std::string::npos);

  CHECK(guard([] { throw 7; }) == CBIR_EINTERNAL);
  CHECK(!std::string(cbir_last_error()).empty());

  // A success clears the previous message.
  CHECK(guard([] {}) == CBIR_OK);
  CHECK(std::string(cbir_last_error()).empty());
}

TEST_CASE("errors are per thread") {
  guard([] { cbir::fail(CBIR_EIO, "main thread failure"); });
  std::string other;
  std::thread t([&] {
    other = cbir_last_error();
    guard([] { cbir::fail(CBIR_EINVAL, "other thread failure"); });
  });
  t.join();
  CHECK(other.empty());
  CHECK(std::string(cbir_last_error()) == "main thread failure");
}

TEST_CASE("need() names the NULL argument") {
  CHECK(guard([] { cbir::capi::need(static_cast<int*>(nullptr), "out"); }) == CBIR_EINVAL);
  CHECK(std::string(cbir_last_error()) == "out must not be NULL");
}

namespace {
struct OptsV1 {
  uint32_t version;
  int32_t a;
};
struct OptsV2 {
  uint32_t version;
  int32_t a;
  int32_t b;  // appended in "version 2"
};
}  // namespace

TEST_CASE("options: NULL means defaults, old callers keep appended defaults, unknown refused") {
  const OptsV2 defaults{sizeof(OptsV2), 1, 2};
  OptsV2 out{};
  CHECK(guard([&] { out = cbir::capi::options_or_default<OptsV2>(nullptr, defaults, "o"); }) == 0);
  CHECK((out.a == 1 && out.b == 2));

  // A caller compiled against the older, shorter struct: its fields are read, b keeps its default.
  OptsV1 old{sizeof(OptsV1), 5};
  CHECK(guard([&] {
          out = cbir::capi::options_or_default(reinterpret_cast<const OptsV2*>(&old), defaults, "o");
        }) == 0);
  CHECK((out.a == 5 && out.b == 2 && out.version == sizeof(OptsV2)));

  OptsV2 bad{0, 9, 9};
  CHECK(guard([&] { cbir::capi::options_or_default(&bad, defaults, "opts"); }) == CBIR_EINVAL);
  CHECK(std::string(cbir_last_error()).find("opts: unknown version 0") == 0);
  bad.version = sizeof(OptsV2) + 4;
  CHECK(guard([&] { cbir::capi::options_or_default(&bad, defaults, "opts"); }) == CBIR_EINVAL);
}

TEST_CASE("every status code has its own description") {
  const int codes[] = {CBIR_OK,          CBIR_EINVAL,           CBIR_ENOMEM,
                       CBIR_EIO,         CBIR_ENOTFOUND,        CBIR_EEXIST,
                       CBIR_ECORRUPT,    CBIR_EMISMATCH,        CBIR_ELOCKED,
                       CBIR_EUNSUPPORTED, CBIR_ECANCELLED,      CBIR_EMODEL,
                       CBIR_ECLOSED,     CBIR_EIMAGE_FORMAT,    CBIR_EIMAGE_TRUNCATED,
                       CBIR_EIMAGE_CORRUPT, CBIR_EIMAGE_DIMENSIONS, CBIR_EIMAGE_TOO_LARGE,
                       CBIR_EIMAGE_EMPTY, CBIR_EINTERNAL};
  std::set<std::string> seen;
  for (int c : codes) {
    std::string s = cbir_status_str(c);
    CHECK(s != "unknown status");
    CHECK(seen.insert(s).second);
  }
  CHECK(std::string(cbir_status_str(12345)) == "unknown status");
}

TEST_CASE("version macros and run-time version agree") {
  CHECK(cbir_version_number() == CBIR_VERSION_NUMBER);
  std::string expect = std::to_string(CBIR_VERSION_MAJOR) + "." + std::to_string(CBIR_VERSION_MINOR) +
                       "." + std::to_string(CBIR_VERSION_PATCH);
  CHECK(cbir_version_string() == expect);
}

namespace {
struct Captured {
  std::vector<std::pair<int, std::string>> lines;
};
void capture(void* user, int32_t level, const char* msg) {
  static_cast<Captured*>(user)->lines.emplace_back(level, msg);
}
}  // namespace

TEST_CASE("log callback receives messages at or above its level, and can be removed") {
  Captured c;
  cbir_set_log_callback(capture, &c, CBIR_LOG_WARN);
  cbir::log(CBIR_LOG_INFO, "dropped");
  cbir::log(CBIR_LOG_ERROR, "kept");
  cbir_set_log_callback(nullptr, nullptr, CBIR_LOG_DEBUG);
  cbir::log(CBIR_LOG_ERROR, "after removal");
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].first == CBIR_LOG_ERROR);
  CHECK(c.lines[0].second == "kept");
}

#if defined(__GLIBC__) && !defined(CBIR_TEST_OWN_MALLOC)
TEST_CASE("malloc reuse: large blocks come from the heap and stay there; off maps them again") {
  const size_t size = 20u << 20;
  REQUIRE(cbir_set_malloc_reuse(1) == CBIR_OK);
  size_t mapped = mallinfo2().hblkhd;
  // Volatile stores keep the compiler from eliding a malloc/free pair.
  auto touch = [](void* p, size_t n) {
    REQUIRE(p != nullptr);
    for (size_t i = 0; i < n; i += 4096) static_cast<volatile char*>(p)[i] = 1;
  };
  void* p = std::malloc(size);
  touch(p, size);
  CHECK(mallinfo2().hblkhd == mapped);  // not a mapping of its own
  std::free(p);
  CHECK(mallinfo2().arena >= size);  // freed, but kept for the next block

  REQUIRE(cbir_set_malloc_reuse(0) == CBIR_OK);
  // Larger than all the free heap space: mapped of its own, as glibc does by default.
  const size_t larger = mallinfo2().fordblks + (1u << 20);
  p = std::malloc(larger);
  touch(p, larger);
  CHECK(mallinfo2().hblkhd >= mapped + larger);
  std::free(p);
  REQUIRE(cbir_set_malloc_reuse(1) == CBIR_OK);
}
#else
TEST_CASE("malloc reuse is refused, with a reason, where malloc is not glibc's own") {
  CHECK(cbir_set_malloc_reuse(1) == CBIR_EUNSUPPORTED);
  CHECK(std::string(cbir_last_error()).find("malloc") != std::string::npos);
}
#endif

TEST_CASE("threads can be set, and a negative or absurd count is refused") {
  CHECK(cbir_set_threads(2) == CBIR_OK);
  CHECK(std::string(cbir_build_info()).find("LibTorch") != std::string::npos);
  CHECK(cbir_set_threads(-1) == CBIR_EINVAL);
  CHECK(std::string(cbir_last_error()).find("threads") != std::string::npos);
  // Found by fuzz_c_api: LibTorch allocated its pool for INT32_MAX threads (128 GiB) and died.
  CHECK(cbir_set_threads(INT32_MAX) == CBIR_EINVAL);
  CHECK(std::string(cbir_last_error()).find("at most 4096") != std::string::npos);
  CHECK(cbir_set_threads(0) == CBIR_OK);
}

TEST_CASE("cbir_set_threads sizes OpenBLAS's own pool too") {
  using Get = int (*)();
  const auto get = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  if (get == nullptr) {
    WARN("SKIPPED: the BLAS linked here is not OpenBLAS");
    return;
  }
  REQUIRE(cbir_set_threads(1) == CBIR_OK);
  CHECK(get() == 1);
  if (std::thread::hardware_concurrency() >= 2) {
    REQUIRE(cbir_set_threads(2) == CBIR_OK);
    CHECK(get() == 2);
  }
  REQUIRE(cbir_set_threads(0) == CBIR_OK);
}
