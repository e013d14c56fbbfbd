#include "store/checkpointer.hpp"

#include <sqlite3.h>

#include "common/log.hpp"

namespace cbir::store {

Checkpointer::Checkpointer(const std::string& path, int min_frames)
    : db_(path, /*create=*/false, /*read_only=*/false), min_frames_(min_frames) {
  // A connection knows the log only once it has looked at the file: until then a checkpoint
  // through it does nothing. (On a new file this sets WAL mode, as the writer just did.)
  db_.exec("PRAGMA journal_mode = WAL");
  db_.exec("PRAGMA synchronous = FULL");  // sync the log before copying it, the file after
  thread_ = std::thread([this] { run(); });
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Checkpointer::request() {
  {
    std::lock_guard l(mu_);
    pending_ = true;
  }
  cv_.notify_all();
}

void Checkpointer::wait_idle() {
  std::unique_lock l(mu_);
  cv_.wait(l, [&] { return stop_ || (!pending_ && !running_); });
}

void Checkpointer::run() {
  std::unique_lock l(mu_);
  for (;;) {
    cv_.wait(l, [&] { return stop_ || pending_; });
    if (stop_) break;
    pending_ = false;
    running_ = true;
    l.unlock();
    const int rc = sqlite3_wal_checkpoint_v2(db_.raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                             nullptr, nullptr);
    // BUSY: another checkpoint (a rebuild's, another process's) holds the log; it does the work.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      try {  // nothing may escape this thread
        log(CBIR_LOG_WARN, "cbir: a background checkpoint of " + db_.path() + " failed (" +
                               sqlite3_errstr(rc) +
                               "); nothing is lost, the write-ahead log keeps the commits. "
                               "Check the disk's free space and the folder's permissions");
      } catch (...) {
      }
    }
    l.lock();
    running_ = false;
    cv_.notify_all();
  }
}

}  // namespace cbir::store
