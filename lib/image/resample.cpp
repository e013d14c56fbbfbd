// See resample.hpp. Integer sums are exact, so the loops may run in any order or width
// (vectorised) and still give Pillow's bytes; only the coefficient arithmetic, done in double
// as Pillow does it, must follow its expressions step by step.
#include "image/resample.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/error.hpp"

namespace cbir::image::detail {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // 8 bits of result, 2 of headroom for overshoot
constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);

double bicubic(double x) {  // Keys' cubic convolution with a = -0.5
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double bilinear(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

uint8_t clip8(int32_t v) {
  v >>= kPrecisionBits;  // arithmetic shift: floor, as Pillow's lookup table assumes
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// For each output index in [first, first + count): the first input index, how many inputs
// contribute, and their fixed-point weights (ksize slots per output).
struct Taps {
  int ksize = 0;
  std::vector<int> start, count;
  std::vector<int32_t> weights;
};

Taps compute_taps(int in_size, int out_size, int first, int count, Interpolation filter) {
  double (*kernel)(double) = filter == Interpolation::bicubic ? bicubic : bilinear;
  const double kernel_support = filter == Interpolation::bicubic ? 2.0 : 1.0;

  const double scale = static_cast<double>(static_cast<float>(in_size)) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = kernel_support * filterscale;
  Taps t;
  t.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.start.resize(count);
  t.count.resize(count);
  t.weights.assign(static_cast<size_t>(count) * t.ksize, 0);
  std::vector<double> k(t.ksize);
  for (int i = 0; i < count; ++i) {
    const int xx = first + i;
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax = std::min(xmax - xmin, t.ksize);
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = kernel((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    int32_t* out = &t.weights[static_cast<size_t>(i) * t.ksize];
    for (int x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? k[x] / ww : k[x];
      out[x] = static_cast<int32_t>(w < 0 ? -0.5 + w * (1 << kPrecisionBits)
                                          : 0.5 + w * (1 << kPrecisionBits));
    }
    t.start[i] = xmin;
    t.count[i] = xmax;
  }
  return t;
}

// Rows [row0, row0 + rows) of src, each resampled horizontally to the taps' outputs.
Image horizontal(const Image& src, int row0, int rows, const Taps& t) {
  const int w = static_cast<int>(t.start.size());
  Image out;
  out.width = w;
  out.height = rows;
  out.rgb.resize(static_cast<size_t>(w) * rows * 3);
  const size_t in_stride = static_cast<size_t>(src.width) * 3;
  for (int y = 0; y < rows; ++y) {
    const uint8_t* in = src.rgb.data() + (row0 + y) * in_stride;
    uint8_t* dst = out.rgb.data() + static_cast<size_t>(y) * w * 3;
    for (int xx = 0; xx < w; ++xx, dst += 3) {
      const int32_t* k = &t.weights[static_cast<size_t>(xx) * t.ksize];
      const uint8_t* p = in + static_cast<size_t>(t.start[xx]) * 3;
      int32_t s0 = kHalf, s1 = kHalf, s2 = kHalf;
      for (int i = 0, n = t.count[xx]; i < n; ++i, p += 3) {
        s0 += p[0] * k[i];
        s1 += p[1] * k[i];
        s2 += p[2] * k[i];
      }
      dst[0] = clip8(s0);
      dst[1] = clip8(s1);
      dst[2] = clip8(s2);
    }
  }
  return out;
}

// Every column of src resampled vertically; the taps' starts are rows of src.
Image vertical(const Image& src, const Taps& t) {
  const int h = static_cast<int>(t.start.size());
  const size_t row = static_cast<size_t>(src.width) * 3;
  Image out;
  out.width = src.width;
  out.height = h;
  out.rgb.resize(row * h);
  std::vector<int32_t> acc(row);
  for (int yy = 0; yy < h; ++yy) {
    std::fill(acc.begin(), acc.end(), kHalf);
    const int32_t* k = &t.weights[static_cast<size_t>(yy) * t.ksize];
    for (int i = 0; i < t.count[yy]; ++i) {
      const uint8_t* in = src.rgb.data() + (t.start[yy] + i) * row;
      const int32_t ki = k[i];
      for (size_t c = 0; c < row; ++c) acc[c] += in[c] * ki;
    }
    uint8_t* dst = out.rgb.data() + yy * row;
    for (size_t c = 0; c < row; ++c) dst[c] = clip8(acc[c]);
  }
  return out;
}

Image crop(const Image& src, int x0, int y0, int w, int h) {
  Image out;
  out.width = w;
  out.height = h;
  out.rgb.resize(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    std::memcpy(out.rgb.data() + static_cast<size_t>(y) * w * 3,
                src.rgb.data() + ((static_cast<size_t>(y0) + y) * src.width + x0) * 3,
                static_cast<size_t>(w) * 3);
  return out;
}

}  // namespace

Image resample(const Image& src, int out_w, int out_h, Interpolation filter, int x0, int y0,
               int w, int h) {
  require(src.width > 0 && src.height > 0 &&
              src.rgb.size() == static_cast<size_t>(src.width) * src.height * 3,
          "resample: the source image is empty or its pixel buffer has the wrong size");
  require(out_w > 0 && out_h > 0, "resample: the output size must be positive");
  require(x0 >= 0 && y0 >= 0 && w > 0 && h > 0 && x0 <= out_w - w && y0 <= out_h - h,
          "resample: the window must lie inside the output");

  // Pillow skips a pass whose size does not change; the vertical pass then reads the source.
  const bool need_horizontal = out_w != src.width;
  const bool need_vertical = out_h != src.height;
  Taps vert;
  int row0 = y0, rows = h;
  if (need_vertical) {
    vert = compute_taps(src.height, out_h, y0, h, filter);
    row0 = vert.start.front();
    rows = vert.start.back() + vert.count.back() - row0;
    for (int& s : vert.start) s -= row0;
  }
  Image tmp = need_horizontal
                  ? horizontal(src, row0, rows, compute_taps(src.width, out_w, x0, w, filter))
                  : crop(src, x0, row0, w, rows);
  return need_vertical ? vertical(tmp, vert) : tmp;
}

}  // namespace cbir::image::detail
