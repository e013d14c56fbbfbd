#include "store/create_collection.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "common/error.hpp"
#include "store/durable_fs.hpp"

namespace cbir::store {
namespace fs = std::filesystem;

namespace {

constexpr const char* kInfix = ".creating.";

// ".<name>.creating.<pid>.<random>": hidden, and naming the process that makes it.
std::string staging_name(const std::string& name) {
  std::random_device rd;
  char tail[32];
  std::snprintf(tail, sizeof tail, "%ld.%08x", static_cast<long>(::getpid()), rd());
  return "." + name + kInfix + tail;
}

// Staging folders of `name` whose process is gone: a killed creation's leftovers.
void remove_stale_staging(const fs::path& parent, const std::string& name) {
  const std::string prefix = "." + name + kInfix;
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

bool create_collection_folder(const std::string& dir, const CatalogMeta& meta) {
  fs::path target = fs::path(dir).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();  // "a/b/" -> "a/b"
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string name = target.filename().string();
  remove_stale_staging(parent, name);

  const fs::path staging = parent / staging_name(name);
  std::error_code ec;
  if (!fs::create_directory(staging, ec))
    fail(CBIR_EIO, "cannot create the collection folder " + dir + ": " +
                       (ec ? ec.message() : "a staging folder of that name exists"));
  try {
    {
      Catalog catalog((staging / Catalog::kFileName).string(), /*writer=*/true, /*create=*/true);
      catalog.initialize(meta);
    }  // closed: SQLite folds its log into the file
    fsync_dir(staging.string());
    if (::rename(staging.c_str(), target.c_str()) != 0) {
      const int err = errno;
      if (err != EEXIST && err != ENOTEMPTY)
        fail(CBIR_EIO, "cannot create the collection folder " + dir + ": " + std::strerror(err));
      fs::remove_all(staging, ec);
      return false;  // another process made it meanwhile
    }
    fsync_parent_dir(target.string());
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
  return true;
}

}  // namespace cbir::store
