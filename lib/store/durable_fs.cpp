#include "store/durable_fs.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "common/error.hpp"

namespace cbir::store {
namespace fs = std::filesystem;

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool ok = fd >= 0 && ::fsync(fd) == 0;
  const int err = errno;
  if (fd >= 0) ::close(fd);
  if (!ok) fail(CBIR_EIO, "cannot sync the folder " + dir + ": " + std::strerror(err));
}

void fsync_parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  fsync_dir(slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash));
}

namespace {

// Staging folders of `prefix` whose process is gone: a killed operation's leftovers.
void remove_stale(const fs::path& parent, const std::string& prefix) {
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string entry = it->path().filename().string();
    if (entry.compare(0, prefix.size(), prefix) != 0) continue;
    const long pid = std::strtol(entry.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::error_code ignored;
      fs::remove_all(it->path(), ignored);
    }
  }
}

}  // namespace

StagedFolder::StagedFolder(const std::string& target, const char* what) {
  fs::path t = fs::path(target).lexically_normal();
  if (!t.has_filename()) t = t.parent_path();  // "a/b/" -> "a/b"
  const fs::path parent = t.has_parent_path() ? t.parent_path() : fs::path(".");
  const std::string prefix = "." + t.filename().string() + "." + what + ".";
  remove_stale(parent, prefix);
  std::random_device rd;
  char tail[32];
  std::snprintf(tail, sizeof tail, "%ld.%08x", static_cast<long>(::getpid()), rd());
  target_ = t.string();
  staging_ = (parent / (prefix + tail)).string();
  std::error_code ec;
  if (!fs::create_directory(staging_, ec))
    fail(CBIR_EIO, "cannot create a folder beside " + target_ + ": " +
                       (ec ? ec.message() : "a staging folder of that name exists"));
}

StagedFolder::~StagedFolder() {
  if (done_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

bool StagedFolder::commit() {
  fsync_dir(staging_);
  if (::rename(staging_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    if (err != EEXIST && err != ENOTEMPTY)
      fail(CBIR_EIO, "cannot move " + staging_ + " to " + target_ + ": " + std::strerror(err));
    return false;  // the destructor removes the staging folder
  }
  done_ = true;
  fsync_parent_dir(target_);
  return true;
}

}  // namespace cbir::store
