// A small process-wide cache of large pixel blocks (see PixelAllocator in image.hpp). Faulting
// in tens of MB of fresh pages can cost more than decoding into them (5x in a VM measured for
// a 12 MP JPEG), and glibc returns such blocks to the system at every free. A few freed blocks
// are kept here for the next image instead.
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#include <sanitizer/asan_interface.h>  // poisoning no-ops unless built with ASan

#include "image/image.hpp"

namespace cbir::image::detail {
namespace {

constexpr size_t kSmallest = size_t{1} << 20;  // below this, malloc's own reuse is good
constexpr size_t kMaxBlocks = 4;
constexpr size_t kMaxCachedBytes = size_t{128} << 20;

struct Block {
  void* ptr;
  size_t bytes;
};

struct Cache {
  std::mutex mutex;
  std::vector<Block> blocks;  // at most kMaxBlocks, reserved up front: release never allocates
  size_t cached_bytes = 0;
  Cache() { blocks.reserve(kMaxBlocks); }
  ~Cache() {
    for (const Block& b : blocks) {
      ASAN_UNPOISON_MEMORY_REGION(b.ptr, b.bytes);
      std::free(b.ptr);
    }
  }
};

Cache& cache() {
  static Cache c;
  return c;
}

}  // namespace

void* acquire_pixels(size_t bytes) {
  if (bytes >= kSmallest) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    size_t best = c.blocks.size();  // the smallest cached block that is large enough
    for (size_t i = 0; i < c.blocks.size(); ++i)
      if (c.blocks[i].bytes >= bytes && (best == c.blocks.size() || c.blocks[i].bytes < c.blocks[best].bytes))
        best = i;
    if (best < c.blocks.size()) {
      const Block b = c.blocks[best];
      c.blocks.erase(c.blocks.begin() + static_cast<ptrdiff_t>(best));
      c.cached_bytes -= b.bytes;
      ASAN_UNPOISON_MEMORY_REGION(b.ptr, b.bytes);
      return b.ptr;
    }
  }
  void* p = std::malloc(bytes ? bytes : 1);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void release_pixels(void* ptr, size_t bytes) noexcept {
  if (ptr == nullptr) return;
  if (bytes >= kSmallest) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.blocks.size() < kMaxBlocks && c.cached_bytes + bytes <= kMaxCachedBytes) {
      ASAN_POISON_MEMORY_REGION(ptr, bytes);  // a use after release is reported, not hidden
      c.blocks.push_back({ptr, bytes});
      c.cached_bytes += bytes;
      return;
    }
  }
  std::free(ptr);
}

}  // namespace cbir::image::detail
