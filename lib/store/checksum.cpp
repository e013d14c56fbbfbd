#include "store/checksum.hpp"

#include <xxhash.h>

#include <new>

namespace cbir::store {

uint64_t checksum_of(const void* data, size_t bytes) { return XXH3_64bits(data, bytes); }

struct Checksum::State {
  XXH3_state_t* s = XXH3_createState();
  ~State() { XXH3_freeState(s); }
};

Checksum::Checksum() : state_(std::make_unique<State>()) {
  if (state_->s == nullptr) throw std::bad_alloc();
  XXH3_64bits_reset(state_->s);
}

Checksum::~Checksum() = default;

void Checksum::update(const void* data, size_t bytes) {
  if (bytes == 0) return;  // `data` may then be null
  XXH3_64bits_update(state_->s, data, bytes);
}

uint64_t Checksum::digest() const { return XXH3_64bits_digest(state_->s); }

}  // namespace cbir::store
