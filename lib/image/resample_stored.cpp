// Image.resize in the mode the file stored, then convert('RGB'): the order of Chinese-CLIP's
// own transform (Resize, then its _convert_image_to_rgb). Only two modes resize differently
// from their RGB conversion: indexed images ("P", "1"), which Pillow resizes by nearest
// neighbour whatever filter is asked, and RGBA/LA, which it resizes premultiplied (RGBa/La).
#include <cstring>

#include "common/error.hpp"
#include "image/resample.hpp"

namespace cbir::image::detail {
namespace {

// Pillow's nearest-neighbour scaling (ImagingScaleAffine): output x reads source x
// int(scale / 2 + x * scale), the position accumulated in double exactly as Pillow adds it up.
std::vector<int> nearest_positions(int in, int out, int first, int count) {
  const double scale = static_cast<double>(in) / out;
  std::vector<int> at(count);
  double pos = scale * 0.5;
  for (int x = 0; x < first + count; ++x, pos += scale)
    if (x >= first) at[x - first] = pos < 0.0 ? -1 : static_cast<int>(pos);
  for (int& p : at) p = p < 0 ? 0 : p >= in ? in - 1 : p;  // never reached for a resize
  return at;
}

Image nearest(const Image& src, int out_w, int out_h, int x0, int y0, int w, int h) {
  const std::vector<int> xs = nearest_positions(src.width, out_w, x0, w);
  const std::vector<int> ys = nearest_positions(src.height, out_h, y0, h);
  Image out;
  out.width = w;
  out.height = h;
  out.rgb.resize(static_cast<size_t>(w) * h * 3);
  uint8_t* dst = out.rgb.data();
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = src.rgb.data() + static_cast<size_t>(ys[y]) * src.width * 3;
    for (int x = 0; x < w; ++x, dst += 3) std::memcpy(dst, row + static_cast<size_t>(xs[x]) * 3, 3);
  }
  return out;
}

uint8_t muldiv255(unsigned a, unsigned b) {  // Pillow's MULDIV255: a * b / 255, rounded
  const unsigned t = a * b + 128;
  return static_cast<uint8_t>(((t >> 8) + t) >> 8);
}

// RGBA -> RGBa, resize, RGBa -> RGBA (Pillow's rgbA2rgba and rgba2rgbA), alpha dropped. The
// alpha plane is resized as the fourth channel is: the same filter, channel by channel.
Image premultiplied(const Image& src, int out_w, int out_h, Interpolation filter, int x0, int y0,
                    int w, int h) {
  const size_t n = static_cast<size_t>(src.width) * src.height;
  Image colour, alpha;
  colour.width = alpha.width = src.width;
  colour.height = alpha.height = src.height;
  colour.rgb.resize(n * 3);
  alpha.rgb.resize(n * 3);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t a = src.alpha[i];
    for (int c = 0; c < 3; ++c) {
      colour.rgb[3 * i + c] = muldiv255(src.rgb[3 * i + c], a);
      alpha.rgb[3 * i + c] = a;
    }
  }
  Image out = resample(colour, out_w, out_h, filter, x0, y0, w, h);
  const Image a = resample(alpha, out_w, out_h, filter, x0, y0, w, h);
  for (size_t i = 0; i < out.rgb.size(); ++i) {
    const unsigned av = a.rgb[i];
    if (av == 0 || av == 255) continue;
    const unsigned v = 255u * out.rgb[i] / av;
    out.rgb[i] = static_cast<uint8_t>(v > 255 ? 255 : v);
  }
  return out;
}

}  // namespace

Image resample_stored(const Image& src, int out_w, int out_h, Interpolation filter, int x0, int y0,
                      int w, int h) {
  // Pillow copies an image resized to its own size, whatever its mode.
  const bool same_size = out_w == src.width && out_h == src.height;
  if (same_size || src.stored == Stored::rgb)
    return resample(src, out_w, out_h, filter, x0, y0, w, h);
  require(x0 >= 0 && y0 >= 0 && w > 0 && h > 0 && x0 <= out_w - w && y0 <= out_h - h,
          "resample: the window must lie inside the output");
  if (src.stored == Stored::indexed) return nearest(src, out_w, out_h, x0, y0, w, h);
  require(src.alpha.size() == static_cast<size_t>(src.width) * src.height,
          "resample: the image says it has alpha but its alpha plane has the wrong size");
  return premultiplied(src, out_w, out_h, filter, x0, y0, w, h);
}

}  // namespace cbir::image::detail
