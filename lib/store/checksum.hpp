// A fast streaming 64-bit checksum for the index snapshot: it detects torn writes, truncation and
// bit rot (not tampering). Four independent lanes keep the multiplier busy, so it runs at memory
// speed; data may arrive in pieces of any size.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cbir::store {

class Checksum {
 public:
  void update(const void* data, size_t bytes);
  uint64_t digest() const;

 private:
  void block(const unsigned char* p);

  uint64_t lane_[4] = {0x243f6a8885a308d3ull, 0x13198a2e03707344ull, 0xa4093822299f31d0ull,
                       0x082efa98ec4e6c89ull};
  unsigned char pending_[32] = {};
  size_t npending_ = 0;
  uint64_t length_ = 0;
};

}  // namespace cbir::store
