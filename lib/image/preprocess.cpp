// The model transforms, as torchvision 0.14 computes them on PIL images:
//  squash:                        Resize((S, S))
//  shorter_side_then_center_crop: Resize(S) (long side int(S * long / short)), CenterCrop(C)
// then ToTensor + Normalize, in float32 like torch (x / 255, then (x - mean) / std).
#include <algorithm>

#include "common/error.hpp"
#include "image/image.hpp"
#include "image/resample.hpp"

namespace cbir::image {
namespace {

constexpr int kMaxSide = 16384;  // far beyond any model input; keeps buffers sane

// torchvision's CenterCrop along one axis of length `len`: where the crop starts, possibly
// before 0 when the crop is longer than the image (torchvision pads with black then).
int crop_start(int len, int crop) {
  if (crop > len) return -((crop - len) / 2);
  const int d = len - crop;  // Python's round((len - crop) / 2.0): halves go to even
  const int half = d / 2;
  return (d % 2 == 1 && half % 2 == 1) ? half + 1 : half;
}

void check_recipe(const Recipe& r) {
  if (r.size < 1 || r.size > kMaxSide)
    fail(CBIR_EINVAL, "size must be between 1 and 16384 (got " + std::to_string(r.size) + ")");
  if (r.resize != Resize::squash && (r.crop < 1 || r.crop > kMaxSide))
    fail(CBIR_EINVAL, "crop must be between 1 and 16384 (got " + std::to_string(r.crop) + ")");
  for (int c = 0; c < 3; ++c)
    require(r.std[c] != 0.0f, "recipe std must not contain 0");
}

}  // namespace

Image resize_for(const Image& src, const Recipe& recipe) {
  check_recipe(recipe);
  // A window [x, x + w) x [y, y + h) of the image resized to ow x oh, in the recipe's order.
  auto resample = [&recipe](const Image& i, int ow, int oh, Interpolation f, int x, int y, int w,
                            int h) {
    return recipe.resize_before_rgb ? detail::resample_stored(i, ow, oh, f, x, y, w, h)
                                    : detail::resample(i, ow, oh, f, x, y, w, h);
  };
  const int s = recipe.size;
  if (recipe.resize == Resize::squash) return resample(src, s, s, recipe.interpolation, 0, 0, s, s);

  // Resize(S): the shorter side becomes S, the longer int(S * long / short) (Python float).
  const bool portrait = src.width <= src.height;
  const int shorter = portrait ? src.width : src.height;
  const int longer = portrait ? src.height : src.width;
  const double scaled = static_cast<double>(int64_t{s} * longer) / shorter;
  // Only the crop is computed, so even an extreme aspect ratio costs little; it must fit int.
  require(scaled < 2147483647.0, "the image's aspect ratio is too extreme to resize");
  const int new_long = static_cast<int>(scaled);
  const int rw = portrait ? s : new_long;
  const int rh = portrait ? new_long : s;

  // CenterCrop(C) of that, computing only the pixels inside the crop.
  const int c = recipe.crop;
  const int left = crop_start(rw, c), top = crop_start(rh, c);
  const int x0 = std::max(left, 0), y0 = std::max(top, 0);
  const int x1 = std::min(left + c, rw), y1 = std::min(top + c, rh);
  Image inside = resample(src, rw, rh, recipe.interpolation, x0, y0, x1 - x0, y1 - y0);
  if (inside.width == c && inside.height == c) return inside;

  Image out;  // the crop reaches past the resized image: black around it
  out.width = out.height = c;
  out.rgb.assign(static_cast<size_t>(c) * c * 3, 0);
  const size_t row = static_cast<size_t>(inside.width) * 3;
  for (int y = 0; y < inside.height; ++y)
    std::copy_n(inside.rgb.data() + y * row, row,
                out.rgb.data() + ((static_cast<size_t>(y0 - top) + y) * c + (x0 - left)) * 3);
  return out;
}

void normalize_chw(const Image& resized, const Recipe& recipe, float* out) {
  const int side = recipe.output_side();
  require(out != nullptr, "normalize_chw: out must not be NULL");
  require(resized.width == side && resized.height == side &&
              resized.rgb.size() == static_cast<size_t>(side) * side * 3,
          "normalize_chw: the image is not the recipe's output size");
  for (int c = 0; c < 3; ++c)
    require(recipe.std[c] != 0.0f, "recipe std must not contain 0");
  float lut[3][256];  // the same float32 operations as ToTensor + Normalize, so bit-equal
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v)
      lut[c][v] = (static_cast<float>(v) / 255.0f - recipe.mean[c]) / recipe.std[c];
  const size_t plane = static_cast<size_t>(side) * side;
  const uint8_t* px = resized.rgb.data();
  for (size_t i = 0; i < plane; ++i, px += 3) {
    out[i] = lut[0][px[0]];
    out[plane + i] = lut[1][px[1]];
    out[2 * plane + i] = lut[2][px[2]];
  }
}

DecodeOptions fast_options_for(const Recipe& recipe, DecodeOptions base) {
  base.fast_min_side = recipe.size;  // both recipes resize so that the shorter side is size
  return base;
}

}  // namespace cbir::image
