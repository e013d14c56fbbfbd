// A reader/writer lock in which a waiting writer goes before readers that arrive after it.
// std::shared_mutex on glibc prefers readers, so a steady stream of searches would keep a
// writer (add, remove, rebuild's swap) waiting forever. Works with std::shared_lock and
// std::unique_lock. Not recursive.
#pragma once

#include <condition_variable>
#include <mutex>

namespace cbir::store {

class RwLock {
 public:
  void lock_shared() {
    std::unique_lock<std::mutex> l(m_);
    cv_.wait(l, [&] { return !writing_ && writers_waiting_ == 0; });
    ++readers_;
  }
  void unlock_shared() {
    std::lock_guard<std::mutex> l(m_);
    if (--readers_ == 0) cv_.notify_all();
  }
  void lock() {
    std::unique_lock<std::mutex> l(m_);
    ++writers_waiting_;
    cv_.wait(l, [&] { return !writing_ && readers_ == 0; });
    --writers_waiting_;
    writing_ = true;
  }
  void unlock() {
    std::lock_guard<std::mutex> l(m_);
    writing_ = false;
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int readers_ = 0;
  int writers_waiting_ = 0;
  bool writing_ = false;
};

}  // namespace cbir::store
