#include "common/log.hpp"

#include <mutex>
#include <shared_mutex>

namespace cbir {
namespace {

struct Sink {
  std::shared_mutex mu;
  cbir_log_fn fn = nullptr;
  void* user = nullptr;
  int level = CBIR_LOG_INFO;
};

Sink& sink() {
  static Sink s;
  return s;
}

}  // namespace

void set_log_callback(cbir_log_fn fn, void* user, int level) {
  Sink& s = sink();
  std::unique_lock lock(s.mu);
  s.fn = fn;
  s.user = user;
  s.level = level;
}

bool log_enabled(int level) {
  Sink& s = sink();
  std::shared_lock lock(s.mu);
  return s.fn != nullptr && level >= s.level;
}

void log(int level, const std::string& message) {
  Sink& s = sink();
  std::shared_lock lock(s.mu);
  if (s.fn != nullptr && level >= s.level) s.fn(s.user, level, message.c_str());
}

}  // namespace cbir
