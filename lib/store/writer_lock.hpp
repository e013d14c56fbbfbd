// One writer per collection across processes: an exclusive flock() on the folder's `lock` file,
// held for as long as the writer is open and released by the kernel if the process dies. The
// file holds the writer's pid so that the "locked" error can name it.
#pragma once

#include <string>

namespace cbir::store {

class WriterLock {
 public:
  // Takes the lock of collection folder `dir`; CBIR_ELOCKED (naming the holder) when another
  // writer has it, in this process or another.
  explicit WriterLock(const std::string& dir);
  ~WriterLock();
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace cbir::store
