// cbir::Error is how the core reports failure: a CBIR_E* code and a message that tells the user
// what went wrong and what to do. lib/c_api/guard.hpp turns it into a status + cbir_last_error().
#pragma once

#include <stdexcept>
#include <string>

#include "cbir.h"

namespace cbir {

class Error : public std::runtime_error {
 public:
  Error(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

[[noreturn]] inline void fail(int code, const std::string& message) { throw Error(code, message); }

// Throws CBIR_EINVAL with `message` unless `ok`.
inline void require(bool ok, const char* message) {
  if (!ok) fail(CBIR_EINVAL, message);
}

}  // namespace cbir
