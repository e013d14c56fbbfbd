#include "store/checksum.hpp"

#include <cstring>

namespace cbir::store {

namespace {

constexpr uint64_t kMul1 = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kMul2 = 0xbf58476d1ce4e5b9ull;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline uint64_t load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // the snapshot is read on the machine kind that wrote it (little endian)
}

inline uint64_t mix(uint64_t lane, uint64_t word) { return rotl(lane ^ (word * kMul1), 31) * kMul2; }

inline uint64_t avalanche(uint64_t x) {
  x ^= x >> 30;
  x *= kMul2;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

void Checksum::block(const unsigned char* p) {
  for (int i = 0; i < 4; ++i) lane_[i] = mix(lane_[i], load64(p + 8 * i));
}

void Checksum::update(const void* data, size_t bytes) {
  if (bytes == 0) return;  // `data` may then be null
  auto p = static_cast<const unsigned char*>(data);
  length_ += bytes;
  if (npending_ > 0) {
    size_t take = bytes < 32 - npending_ ? bytes : 32 - npending_;
    std::memcpy(pending_ + npending_, p, take);
    npending_ += take;
    p += take;
    bytes -= take;
    if (npending_ < 32) return;
    block(pending_);
    npending_ = 0;
  }
  for (; bytes >= 32; p += 32, bytes -= 32) block(p);
  std::memcpy(pending_, p, bytes);
  npending_ = bytes;
}

uint64_t Checksum::digest() const {
  unsigned char last[32] = {};
  std::memcpy(last, pending_, npending_);
  uint64_t h = length_ * kMul1;
  for (int i = 0; i < 4; ++i) {
    uint64_t lane = npending_ > 0 ? mix(lane_[i], load64(last + 8 * i)) : lane_[i];
    h = rotl(h ^ avalanche(lane), 27) * kMul2 + static_cast<uint64_t>(i);
  }
  return avalanche(h);
}

}  // namespace cbir::store
