#include "store/writer_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/error.hpp"

namespace cbir::store {

WriterLock::WriterLock(const std::string& dir) {
  const std::string path = dir + "/lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    fail(CBIR_EIO, "cannot open the lock file " + path + ": " + std::strerror(errno) +
                       " (a writer needs write access to the collection folder)");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char pid[32] = {};
    ssize_t n = ::pread(fd_, pid, sizeof pid - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK)
      fail(CBIR_EIO, "cannot lock " + path + ": " + std::strerror(err));
    std::string holder = n > 0 ? std::string(pid, static_cast<size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    if (holder.empty())
      holder = "another process";
    else if (holder == std::to_string(::getpid()))
      holder = "another handle in this process";
    else
      holder = "process " + holder;
    fail(CBIR_ELOCKED, "the collection " + dir + " is open for writing by " + holder +
                           "; close it there first, or open it read-only (CBIR_OPEN_READONLY)");
  }
  const std::string me = std::to_string(::getpid()) + "\n";
  // Best effort: the pid only improves the message another writer gets.
  const bool written = ::ftruncate(fd_, 0) == 0 &&
                       ::pwrite(fd_, me.data(), me.size(), 0) == static_cast<ssize_t>(me.size());
  (void)written;
}

WriterLock::~WriterLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace cbir::store
