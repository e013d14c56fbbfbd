#include "c_api/guard.hpp"

#include <cstdlib>
#include <cstring>

namespace cbir::capi {
namespace {
thread_local std::string t_last_error;
}

int set_error(int code, const std::string& message) noexcept {
  try {
    t_last_error = message.empty() ? cbir_status_str(code) : message;
  } catch (...) {
    t_last_error.clear();  // out of memory while reporting: the code still tells the story
  }
  return code;
}

void clear_error() noexcept { t_last_error.clear(); }

const char* last_error() noexcept { return t_last_error.c_str(); }

char* dup_string(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) throw std::bad_alloc();
  std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

}  // namespace cbir::capi
