#include "thumbnails.hpp"

#include <turbojpeg.h>

#include <algorithm>

#include "http_error.hpp"

namespace cli::serve {

namespace {

struct CbirFree {
  void operator()(void* p) const { cbir_free(p); }
};

}  // namespace

std::string encode_jpeg(const uint8_t* rgb, int32_t width, int32_t height, int quality) {
  tjhandle tj = tjInitCompress();
  if (!tj) throw HttpError(500, "thumbnail: TurboJPEG could not start a compressor");
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  int rc = tjCompress2(tj, rgb, width, 0, height, TJPF_RGB, &jpeg, &size, TJSAMP_420, quality,
                       TJFLAG_FASTDCT);
  std::string out;
  std::string err = rc == 0 ? "" : tjGetErrorStr2(tj);
  if (rc == 0) out.assign(reinterpret_cast<const char*>(jpeg), size);
  tjFree(jpeg);
  tjDestroy(tj);
  if (rc != 0) throw HttpError(500, "thumbnail: JPEG encoding failed: " + err);
  return out;
}

Thumbnails::Thumbnails(const cbir_collection_t* coll, int32_t side, size_t cache_bytes)
    : coll_(coll), side_(side), cache_bytes_(cache_bytes) {}

std::shared_ptr<const std::string> Thumbnails::get(int64_t id) {
  cbir_item_t* raw = nullptr;
  check_http(cbir_collection_get(&raw, coll_, id), "item " + std::to_string(id));
  std::unique_ptr<cbir_item_t, CbirFree> item(raw);
  std::string key = std::to_string(id) + ':' + item->content_hash + ':' +
                    std::to_string(item->size) + ':' + std::to_string(item->mtime);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      ++hits_;
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
    ++misses_;
  }
  // Made outside the lock, so slow decodes do not queue behind each other; two requests for
  // the same new item may both make it, and the second simply replaces the first.
  std::shared_ptr<const std::string> jpeg = make(*item);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it != index_.end()) {
    bytes_ -= it->second->second->size();
    lru_.erase(it->second);
    index_.erase(it);
  }
  if (jpeg->size() <= cache_bytes_) {
    lru_.emplace_front(key, jpeg);
    index_[key] = lru_.begin();
    bytes_ += jpeg->size();
  }
  while (bytes_ > cache_bytes_ && !lru_.empty()) {
    bytes_ -= lru_.back().second->size();
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return jpeg;
}

std::shared_ptr<const std::string> Thumbnails::make(const cbir_item_t& item) const {
  // Small images are not enlarged: the browser scales them, and the bytes stay few.
  int32_t side = side_;
  if (item.width > 0 && item.height > 0) side = std::min({side, item.width, item.height});

  cbir_preprocess_options_t opts = CBIR_PREPROCESS_OPTIONS_INIT;
  opts.resize = CBIR_RESIZE_SHORTER_SIDE_THEN_CENTER_CROP;
  opts.size = side;
  opts.crop = side;
  opts.interpolation = CBIR_INTERPOLATION_BILINEAR;
  opts.fast_decode = 1;  // a thumbnail does not need the exact pixels; large JPEGs decode faster
  uint8_t* pixels = nullptr;
  int32_t h = 0, w = 0;
  check_http(cbir_image_preprocess_file(&pixels, &h, &w, item.uri, &opts),
             "item " + std::to_string(item.id));
  std::unique_ptr<uint8_t, CbirFree> owned(pixels);
  return std::make_shared<const std::string>(encode_jpeg(pixels, w, h, 85));
}

Thumbnails::Stats Thumbnails::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {hits_, misses_, lru_.size(), bytes_};
}

}  // namespace cli::serve
