#include "ingest/walk.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/error.hpp"

namespace fs = std::filesystem;

namespace cbir::ingest {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool wanted(const fs::path& p, const std::vector<std::string>& exts) {
  if (exts.empty()) return true;
  std::string ext = p.extension().string();
  if (ext.size() < 2) return false;
  return std::find(exts.begin(), exts.end(), lower(ext.substr(1))) != exts.end();
}

FileFacts facts_of(const fs::path& p, const struct stat& st) {
  FileFacts f;
  f.path = p.lexically_normal().string();
  f.size = static_cast<int64_t>(st.st_size);
  f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return f;
}

}  // namespace

std::vector<std::string> parse_extensions(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string item = list.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty() && item[0] == '.') item.erase(0, 1);
    if (item.empty()) fail(CBIR_EINVAL, "extension list '" + list + "' has an empty item");
    out.push_back(lower(item));
    start = comma + 1;
  }
  return out;
}

std::vector<FileFacts> walk(const std::string& root, const WalkOptions& opts,
                            const std::function<void(const std::string&, const std::string&)>& on_error) {
  std::error_code ec;
  fs::path base = fs::absolute(root, ec);
  if (ec || !fs::exists(base, ec)) fail(CBIR_ENOTFOUND, "folder '" + root + "' does not exist");
  if (!fs::is_directory(base, ec)) fail(CBIR_EINVAL, "'" + root + "' is not a folder");

  std::vector<FileFacts> out;
  auto dir_opts = fs::directory_options::skip_permission_denied;
  if (opts.follow_symlinks) dir_opts |= fs::directory_options::follow_directory_symlink;
  fs::recursive_directory_iterator it(base, dir_opts, ec), end;
  if (ec) fail(CBIR_EIO, "cannot read folder '" + root + "': " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) {  // the iterator cannot go on past this; what was found so far is kept
      on_error(root, "stopped reading the folder: " + ec.message());
      break;
    }
    if (!opts.recursive) it.disable_recursion_pending();
    const fs::path& p = it->path();
    struct stat st;
    int rc = opts.follow_symlinks ? ::stat(p.c_str(), &st) : ::lstat(p.c_str(), &st);
    if (rc != 0) {
      on_error(p.string(), std::string("cannot stat: ") + std::strerror(errno));
      continue;
    }
    if (!S_ISREG(st.st_mode) || !wanted(p, opts.extensions)) continue;
    out.push_back(facts_of(p, st));
  }
  std::sort(out.begin(), out.end(),
            [](const FileFacts& a, const FileFacts& b) { return a.path < b.path; });
  return out;
}

std::string folder_prefix(const std::string& dir) {
  std::error_code ec;
  std::string p = fs::absolute(dir, ec).lexically_normal().string();
  if (p.empty() || p.back() != '/') p += '/';
  return p;
}

FileFacts stat_file(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  struct stat st;
  if (ec || ::stat(p.c_str(), &st) != 0) fail(CBIR_ENOTFOUND, "file '" + path + "' does not exist");
  if (!S_ISREG(st.st_mode)) fail(CBIR_EINVAL, "'" + path + "' is not a regular file");
  return facts_of(p, st);
}

}  // namespace cbir::ingest
