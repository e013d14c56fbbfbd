#include "store/backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "common/error.hpp"
#include "store/catalog.hpp"
#include "store/collection.hpp"
#include "store/durable_fs.hpp"

namespace cbir::store {
namespace fs = std::filesystem;

namespace {

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Copies `from` to `to` and fsyncs it; false when `from` does not exist. The snapshot is only
// ever replaced by a rename, so the open descriptor reads one whole snapshot.
bool copy_file_synced(const std::string& from, const std::string& to) {
  Fd in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) {
    if (errno == ENOENT) return false;
    fail(CBIR_EIO, "cannot read " + from + ": " + std::strerror(errno));
  }
  Fd out{::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)};
  if (out.fd < 0) fail(CBIR_EIO, "cannot write " + to + ": " + std::strerror(errno));
  std::vector<char> buf(size_t{1} << 20);
  for (;;) {
    const ssize_t got = ::read(in.fd, buf.data(), buf.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(CBIR_EIO, "cannot read " + from + ": " + std::strerror(errno));
    if (got == 0) break;
    for (ssize_t done = 0; done < got;) {
      const ssize_t put = ::write(out.fd, buf.data() + done, static_cast<size_t>(got - done));
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) fail(CBIR_EIO, "cannot write " + to + ": " + std::strerror(errno));
      done += put;
    }
  }
  if (::fsync(out.fd) != 0) fail(CBIR_EIO, "cannot write " + to + ": " + std::strerror(errno));
  return true;
}

// SQLite's online backup: one consistent state of the catalog, whatever writers do meanwhile.
void copy_catalog(const std::string& from, const std::string& to) {
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  auto close_both = [&] {
    sqlite3_close_v2(src);
    sqlite3_close_v2(dst);
  };
  int rc = sqlite3_open_v2(from.c_str(), &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc == SQLITE_OK)
    rc = sqlite3_open_v2(to.c_str(), &dst,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(src, 10000);
    sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == nullptr) {
      rc = sqlite3_errcode(dst);
    } else {
      // All pages in one step: the source is read in one transaction, so the copy is of one
      // state (a step at a time would restart whenever a writer commits meanwhile).
      do {
        rc = sqlite3_backup_step(b, -1);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(50);
      } while (rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
      const int finish = sqlite3_backup_finish(b);
      if (rc == SQLITE_DONE) rc = finish;
    }
  }
  if (rc == SQLITE_OK) rc = sqlite3_exec(dst, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    const std::string why = sqlite3_errstr(rc);
    close_both();
    fail(rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? CBIR_ECORRUPT : CBIR_EIO,
         "cannot copy the catalog " + from + ": " + why);
  }
  close_both();  // the last connection folds the log into the file
}

}  // namespace

void backup_collection(const std::string& dir, const std::string& dest) {
  const std::string catalog = dir + "/" + Catalog::kFileName;
  std::error_code ec;
  if (!fs::is_regular_file(catalog, ec))
    fail(CBIR_ENOTFOUND, "there is no collection at " + dir + " to back up");
  if (fs::exists(dest, ec))
    fail(CBIR_EEXIST, dest + " exists; a backup goes to a new folder");
  StagedFolder staged(dest, "backup");
  // The snapshots (index.snap, and index.<space>.snap of each other vector space) first: the
  // catalog copied after them is as new or newer, and opening the copy replays the catalog's
  // changes since each snapshot.
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("index.", 0) == 0 && name.size() > 5 && name.compare(name.size() - 5, 5, ".snap") == 0)
      copy_file_synced(entry.path().string(), staged.path() + "/" + name);
  }
  copy_catalog(catalog, staged.path() + "/" + Catalog::kFileName);
  if (!staged.commit()) fail(CBIR_EEXIST, dest + " appeared while the backup was made");
}

}  // namespace cbir::store
