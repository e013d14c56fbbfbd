// The exception firewall. Every extern "C" entry point that can fail is written as
//
//   int cbir_x_y(...) { return cbir::capi::guard([&] { ... }); }
//
// so no exception crosses the ABI and every failure leaves a code plus cbir_last_error().
#pragma once

#include <algorithm>
#include <cstring>
#include <new>
#include <type_traits>
#include <string>

#include "cbir.h"
#include "common/error.hpp"

namespace cbir::capi {

// Records the calling thread's last error and returns `code`.
int set_error(int code, const std::string& message) noexcept;
void clear_error() noexcept;

template <class F>
int guard(F&& body) noexcept {
  clear_error();
  try {
    body();
    return CBIR_OK;
  } catch (const Error& e) {
    return set_error(e.code(), e.what());
  } catch (const std::bad_alloc&) {
    return set_error(CBIR_ENOMEM, "out of memory");
  } catch (const std::exception& e) {
    return set_error(CBIR_EINTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return set_error(CBIR_EINTERNAL, "internal error: unknown exception");
  }
}

// Argument checks shared by the entry points; each throws CBIR_EINVAL naming the argument.
template <class T>
T* need(T* ptr, const char* name) {
  if (ptr == nullptr) fail(CBIR_EINVAL, std::string(name) + " must not be NULL");
  return ptr;
}

// Options structs: NULL means defaults. `version` holds the sizeof() the caller was compiled
// with (the _INIT macros set it), so fields appended later keep their defaults for old callers.
template <class Opts>
Opts options_or_default(const Opts* given, const Opts& defaults, const char* name) {
  static_assert(std::is_trivially_copyable_v<Opts>, "options are plain C structs");
  Opts out = defaults;
  if (given == nullptr) return out;
  if (given->version < sizeof(uint32_t) || given->version > sizeof(Opts))
    fail(CBIR_EINVAL, std::string(name) + ": unknown version " + std::to_string(given->version) +
                          " (initialise it with its _INIT macro or _options_init())");
  std::memcpy(&out, given, given->version);
  out.version = sizeof(Opts);
  return out;
}

// An options struct's first `size` bytes (the caller's sizeof, never more than ours) set to the
// defaults, `version` to that size (cbir_*_options_init_size). Too small a size is ignored.
template <class Opts>
void init_options(Opts* opts, size_t size, const Opts& defaults) {
  static_assert(std::is_trivially_copyable_v<Opts>, "options are plain C structs");
  if (opts == nullptr || size < sizeof(uint32_t)) return;
  size = std::min(size, sizeof(Opts));
  std::memcpy(opts, &defaults, size);
  opts->version = static_cast<uint32_t>(size);
}

// Copies `s` into memory the caller releases with cbir_free().
char* dup_string(const std::string& s);

}  // namespace cbir::capi
