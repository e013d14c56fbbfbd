// SHA-256 (FIPS 180-4), for checking a bundle's files against the hashes bundle.json records
// and for its fingerprint. Small and dependency-free on purpose: only lib/model needs it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cbir::model {

class Sha256 {
 public:
  // hardware: use the CPU's SHA instructions (x86 SHA-NI) where it has them, about 7x faster
  // on a bundle's hundreds of megabytes; false forces the portable code (the tests compare).
  explicit Sha256(bool hardware = true);
  void update(const void* data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex();  // finishes the hash: lower-case hex of the 32-byte digest
  static bool hardware_available();

 private:
  void blocks(const uint8_t* p, size_t n);  // n whole 64-byte blocks
  bool hardware_;
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buf_{};
  size_t used_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view data);
// Hex digest of a file's contents. Throws cbir::Error (CBIR_ENOTFOUND, CBIR_EIO) naming the file.
std::string sha256_file(const std::string& path);

}  // namespace cbir::model
