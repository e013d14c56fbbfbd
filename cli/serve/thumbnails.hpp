// Thumbnails of collection items: decoded by cbir's own decoder (EXIF-aware, size-limited),
// centre-cropped to a square, encoded as JPEG, and kept in a least-recently-used cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "cbir.h"

namespace cli::serve {

// RGB pixels (height x width x 3, rows top first) as a baseline JPEG. Throws HttpError(500).
std::string encode_jpeg(const uint8_t* rgb, int32_t width, int32_t height, int quality);

class Thumbnails {
 public:
  // side: the thumbnails' side in pixels (smaller images are not enlarged);
  // cache_bytes: the most JPEG bytes kept in memory.
  Thumbnails(const cbir_collection_t* coll, int32_t side, size_t cache_bytes);

  // The JPEG of item `id`: only ids of the collection name a file, never a path from a request.
  // The cache is keyed by the item's id and content, so an item removed or re-indexed with
  // other content is never answered from it. Throws HttpError: 404 for an unknown id or a file
  // that is gone, 4xx for a file that is no longer a decodable image. Safe from many threads.
  std::shared_ptr<const std::string> get(int64_t id);

  struct Stats {
    uint64_t hits, misses;
    size_t entries, bytes;
  };
  Stats stats() const;

 private:
  std::shared_ptr<const std::string> make(const cbir_item_t& item) const;

  const cbir_collection_t* coll_;
  int32_t side_;
  size_t cache_bytes_;
  mutable std::mutex mu_;
  // Most recently used first; the map points into the list.
  std::list<std::pair<std::string, std::shared_ptr<const std::string>>> lru_;
  std::unordered_map<std::string, decltype(lru_)::iterator> index_;
  size_t bytes_ = 0;
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace cli::serve
