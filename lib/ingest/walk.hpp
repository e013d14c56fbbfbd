// Finding the image files to index: a folder tree or a list of paths, filtered by extension.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cbir::ingest {

struct FileFacts {
  std::string path;  // absolute, lexically normal: the item's uri
  int64_t size = 0;
  int64_t mtime_ns = 0;
};

struct WalkOptions {
  bool recursive = true;
  bool follow_symlinks = false;
  // Lower-case extensions without the dot; empty = every file.
  std::vector<std::string> extensions = {"jpg",  "jpeg", "png",  "bmp", "gif",  "tga",
                                         "pnm",  "ppm",  "pgm",  "pbm",  "heic", "heif", "avif",
                                         "webp", "tif",  "tiff", "jxl"};
};

// "jpg,PNG, .webp" -> {"jpg", "png", "webp"}. CBIR_EINVAL for an empty item.
std::vector<std::string> parse_extensions(const std::string& list);

// Every matching regular file under `root`, sorted by path (a stable order makes resumed runs
// and progress figures predictable). Unreadable sub-folders are reported through `on_error`
// (path, message) and skipped. CBIR_ENOTFOUND / CBIR_EINVAL when root is missing / not a folder.
std::vector<FileFacts> walk(const std::string& root, const WalkOptions& opts,
                            const std::function<void(const std::string&, const std::string&)>& on_error);

// The absolute, normal form of folder `dir` with a trailing '/': the uri prefix of the items
// found under it (so /a/b never matches /a/bc).
std::string folder_prefix(const std::string& dir);

// The facts of one file given by path (no extension filter: the caller chose it).
// CBIR_ENOTFOUND when it does not exist, CBIR_EINVAL when it is not a regular file.
FileFacts stat_file(const std::string& path);

}  // namespace cbir::ingest
