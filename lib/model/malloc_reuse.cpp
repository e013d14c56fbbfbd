#include "model/malloc_reuse.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common/error.hpp"

namespace cbir::model {
namespace {

std::mutex g_mutex;
bool g_chosen = false;

bool environment_chose() {
  for (const char* name : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_MAX_",
                           "MALLOC_TOP_PAD_"})
    if (std::getenv(name)) return true;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return tunables && std::strstr(tunables, "glibc.malloc.");
}

// Under the lock.
void apply(bool on) {
#if defined(__GLIBC__)
  // 32 MiB is the largest threshold glibc accepts on 64-bit (HEAP_MAX_SIZE / 2). Setting either
  // value also stops glibc's own adjustment of it.
  const int mmap_threshold = on ? 32 << 20 : 128 << 10;
  const int trim_threshold = on ? 1 << 30 : 128 << 10;
  if (mallopt(M_MMAP_THRESHOLD, mmap_threshold) != 1 || mallopt(M_TRIM_THRESHOLD, trim_threshold) != 1)
    fail(CBIR_EUNSUPPORTED, "this process's malloc refused the setting (a sanitizer or another "
                            "allocator replaces glibc's); nothing to do");
  if (!on) malloc_trim(0);  // give back what reuse kept
#else
  (void)on;
  fail(CBIR_EUNSUPPORTED, "malloc tuning needs glibc; this C library is another");
#endif
}

}  // namespace

void set_malloc_reuse(bool on) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_chosen = true;
  apply(on);
}

void default_malloc_reuse() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_chosen) return;
  g_chosen = true;
  if (environment_chose()) return;
  try {
    apply(true);
  } catch (const Error&) {  // sanitizer or non-glibc: run with what the process has
  }
}

}  // namespace cbir::model
