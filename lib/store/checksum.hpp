// 64-bit checksums through xxHash's XXH3 (libxxhash): for the index snapshot, streamed, and for
// each stored vector. They detect torn writes, truncation and bit rot (not tampering), at memory
// speed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace cbir::store {

// XXH3-64 of one buffer (a stored vector).
uint64_t checksum_of(const void* data, size_t bytes);

// XXH3-64 of data that arrives in pieces of any size (the snapshot).
class Checksum {
 public:
  Checksum();
  ~Checksum();
  Checksum(const Checksum&) = delete;
  Checksum& operator=(const Checksum&) = delete;
  void update(const void* data, size_t bytes);
  uint64_t digest() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace cbir::store
