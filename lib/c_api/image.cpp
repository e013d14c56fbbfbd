// The image C API: decoding and the model transforms without a model, over lib/image.
#include <cstdlib>
#include <cstring>

#include "c_api/guard.hpp"
#include "image/image.hpp"

namespace cbir::capi {
namespace {

constexpr cbir_preprocess_options_t kDefaults = CBIR_PREPROCESS_OPTIONS_INIT;

struct Plan {
  image::DecodeOptions decode;
  image::Recipe recipe;
};

Plan plan_for(const cbir_preprocess_options_t* given) {
  const cbir_preprocess_options_t o = options_or_default(given, kDefaults, "cbir_preprocess_options_t");
  Plan p;
  switch (o.resize) {
    case CBIR_RESIZE_SQUASH: p.recipe.resize = image::Resize::squash; break;
    case CBIR_RESIZE_SHORTER_SIDE_THEN_CENTER_CROP:
      p.recipe.resize = image::Resize::shorter_side_then_center_crop;
      break;
    default: fail(CBIR_EINVAL, "resize " + std::to_string(o.resize) + " is not a CBIR_RESIZE_* value");
  }
  switch (o.interpolation) {
    case CBIR_INTERPOLATION_BICUBIC: p.recipe.interpolation = image::Interpolation::bicubic; break;
    case CBIR_INTERPOLATION_BILINEAR: p.recipe.interpolation = image::Interpolation::bilinear; break;
    default:
      fail(CBIR_EINVAL, "interpolation " + std::to_string(o.interpolation) +
                            " is not a CBIR_INTERPOLATION_* value");
  }
  p.recipe.size = o.size;
  p.recipe.crop = o.crop;
  p.recipe.resize_before_rgb = o.resize_before_rgb != 0;
  p.decode.exif_orientation = o.exif_orientation != 0;
  if (o.max_pixels > 0) p.decode.max_pixels = o.max_pixels;
  if (o.fast_decode) p.decode = image::fast_options_for(p.recipe, p.decode);
  return p;
}

// Hands the transformed pixels to the caller in memory released with cbir_free().
void give(const image::Image& img, uint8_t** out_pixels, int32_t* out_height, int32_t* out_width) {
  auto* bytes = static_cast<uint8_t*>(std::malloc(img.rgb.size()));
  if (bytes == nullptr) throw std::bad_alloc();
  std::memcpy(bytes, img.rgb.data(), img.rgb.size());
  *out_pixels = bytes;
  *out_height = img.height;
  *out_width = img.width;
}

template <class Decode>
int preprocess(uint8_t** out_pixels, int32_t* out_height, int32_t* out_width,
               const cbir_preprocess_options_t* opts, Decode decode) {
  if (out_pixels) *out_pixels = nullptr;
  if (out_height) *out_height = 0;
  if (out_width) *out_width = 0;
  return guard([&] {
    need(out_pixels, "out_pixels");
    need(out_height, "out_height");
    need(out_width, "out_width");
    const Plan p = plan_for(opts);
    give(image::resize_for(decode(p.decode), p.recipe), out_pixels, out_height, out_width);
  });
}

template <class Decode>
int probe(int32_t* out_height, int32_t* out_width, const cbir_preprocess_options_t* opts,
          Decode decode) {
  if (out_height) *out_height = 0;
  if (out_width) *out_width = 0;
  return guard([&] {
    need(out_height, "out_height");
    need(out_width, "out_width");
    image::DecodeOptions d = plan_for(opts).decode;
    d.fast_min_side = 0;  // the size reported is the image's own
    const image::Image img = decode(d);
    *out_height = img.height;
    *out_width = img.width;
  });
}

const uint8_t* buffer_data(const void* data, size_t size) {
  if (size > 0) need(data, "data");
  return static_cast<const uint8_t*>(data);
}

}  // namespace
}  // namespace cbir::capi

using namespace cbir;

extern "C" {

void cbir_preprocess_options_init(cbir_preprocess_options_t* opts) {
  if (opts) *opts = capi::kDefaults;
}

int cbir_image_preprocess_file(uint8_t** out_pixels, int32_t* out_height, int32_t* out_width,
                               const char* path, const cbir_preprocess_options_t* opts) {
  return capi::preprocess(out_pixels, out_height, out_width, opts, [&](const image::DecodeOptions& d) {
    return image::decode_file(capi::need(path, "path"), d);
  });
}

int cbir_image_preprocess_buffer(uint8_t** out_pixels, int32_t* out_height, int32_t* out_width,
                                 const void* data, size_t size,
                                 const cbir_preprocess_options_t* opts) {
  return capi::preprocess(out_pixels, out_height, out_width, opts, [&](const image::DecodeOptions& d) {
    return image::decode_memory(capi::buffer_data(data, size), size, d);
  });
}

int cbir_image_probe_file(int32_t* out_height, int32_t* out_width, const char* path,
                          const cbir_preprocess_options_t* opts) {
  return capi::probe(out_height, out_width, opts, [&](const image::DecodeOptions& d) {
    return image::decode_file(capi::need(path, "path"), d);
  });
}

int cbir_image_probe_buffer(int32_t* out_height, int32_t* out_width, const void* data,
                            size_t size, const cbir_preprocess_options_t* opts) {
  return capi::probe(out_height, out_width, opts, [&](const image::DecodeOptions& d) {
    return image::decode_memory(capi::buffer_data(data, size), size, d);
  });
}

}  // extern "C"
