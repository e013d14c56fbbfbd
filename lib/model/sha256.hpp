// SHA-256 through OpenSSL's libcrypto (which uses the CPU's SHA instructions where it has them),
// for checking a bundle's files against the hashes bundle.json records and for its fingerprint.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace cbir::model {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex();  // finishes the hash: lower-case hex of the 32-byte digest

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

std::string sha256_hex(std::string_view data);
// Hex digest of a file's contents. Throws cbir::Error (CBIR_ENOTFOUND, CBIR_EIO) naming the file.
std::string sha256_file(const std::string& path);

}  // namespace cbir::model
