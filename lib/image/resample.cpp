// See resample.hpp. Pillow sums pixel * coefficient in int32; integer sums are exact in any
// order, so these loops may run vectorised and still give Pillow's bytes. Only the coefficient
// arithmetic, done in double as Pillow does it, follows its expressions step by step.
//
// The SSE2 kernels multiply 16-bit values (pmaddwd), so each 22-bit fixed-point coefficient k is
// split as k = hi * 2048 + lo (0 <= lo < 2048): the two partial sums fit int32 and give Pillow's
// exact int32 sum. The portable kernels compute the same sums one product at a time.
#include "image/resample.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__SSE2__) && defined(__GNUC__)
#include <tmmintrin.h>
#define CBIR_HAVE_SSSE3_PATH 1  // compiled for SSSE3 in one function, chosen at run time
#endif

#include "common/error.hpp"

namespace cbir::image::detail {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // 8 bits of result, 2 of headroom for overshoot
constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);
constexpr int kLoBits = 11;                 // the split of coefficients for 16-bit products
constexpr int32_t kLoMask = (1 << kLoBits) - 1;

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
// contribute, and their fixed-point weights, `stride` slots per output (ksize rounded up to a
// multiple of 8, the rest zero), also split into 16-bit halves for the SIMD kernels.
struct Taps {
  int stride = 0;
  std::vector<int> start, count;
  std::vector<int32_t> weights;
  std::vector<int16_t> lo, hi;  // weights[i] == hi[i] * 2048 + lo[i]
};

Taps compute_taps(int in_size, int out_size, int first, int count, Interpolation filter) {
  double (*kernel)(double) = filter == Interpolation::bicubic ? bicubic : bilinear;
  const double kernel_support = filter == Interpolation::bicubic ? 2.0 : 1.0;

  // Pillow: scale = (double)(in1 - in0) / outSize with a float box; in0 = 0, in1 = in_size.
  const double scale = static_cast<double>(static_cast<float>(in_size)) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = kernel_support * filterscale;
  const int ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  Taps t;
  t.stride = (ksize + 7) / 8 * 8;
  t.start.resize(count);
  t.count.resize(count);
  t.weights.assign(static_cast<size_t>(count) * t.stride, 0);
  std::vector<double> k(ksize);
  for (int i = 0; i < count; ++i) {
    const double center = (first + i + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax = std::min(xmax - xmin, ksize);
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = kernel((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    int32_t* out = &t.weights[static_cast<size_t>(i) * t.stride];
    for (int x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? k[x] / ww : k[x];
      out[x] = static_cast<int32_t>(w < 0 ? -0.5 + w * (1 << kPrecisionBits)
                                          : 0.5 + w * (1 << kPrecisionBits));
    }
    t.start[i] = xmin;
    t.count[i] = xmax;
  }
  t.lo.resize(t.weights.size());
  t.hi.resize(t.weights.size());
  for (size_t i = 0; i < t.weights.size(); ++i) {
    t.lo[i] = static_cast<int16_t>(t.weights[i] & kLoMask);
    t.hi[i] = static_cast<int16_t>((t.weights[i] - t.lo[i]) / (1 << kLoBits));
  }
  return t;
}

#if defined(__SSE2__)
// Two 16-bit coefficients side by side in 32 bits: the pair one pmaddwd lane multiplies by.
int32_t pair16(int16_t first, int16_t second) {
  const uint32_t bits = static_cast<uint16_t>(first) | (uint32_t{static_cast<uint16_t>(second)} << 16);
  return static_cast<int32_t>(bits);
}

// The three channels' sums, each split over four lanes as lo and hi * 2048, reduced and
// rounded to bytes: lane c of the result holds channel c's clipped value.
__m128i finish_rgb(__m128i lo_r, __m128i hi_r, __m128i lo_g, __m128i hi_g, __m128i lo_b,
                   __m128i hi_b) {
  // Lane arithmetic wraps; the true totals fit int32, so the wrapped partial sums add up to them.
  const __m128i r = _mm_add_epi32(_mm_slli_epi32(hi_r, kLoBits), lo_r);
  const __m128i g = _mm_add_epi32(_mm_slli_epi32(hi_g, kLoBits), lo_g);
  const __m128i b = _mm_add_epi32(_mm_slli_epi32(hi_b, kLoBits), lo_b);
  const __m128i rg = _mm_add_epi32(_mm_unpacklo_epi32(r, g), _mm_unpackhi_epi32(r, g));
  const __m128i b0 = _mm_add_epi32(_mm_unpacklo_epi32(b, _mm_setzero_si128()),
                                   _mm_unpackhi_epi32(b, _mm_setzero_si128()));
  __m128i sum = _mm_add_epi32(_mm_unpacklo_epi64(rg, b0), _mm_unpackhi_epi64(rg, b0));
  sum = _mm_srai_epi32(_mm_add_epi32(sum, _mm_set1_epi32(kHalf)), kPrecisionBits);
  // Saturating packs clamp to 0..255, as clip8 does.
  return _mm_packus_epi16(_mm_packs_epi32(sum, sum), _mm_setzero_si128());
}
#endif

// Splits n RGB pixels into three channel rows.
void deinterleave_portable(const uint8_t* in, size_t n, uint8_t* r, uint8_t* g, uint8_t* b) {
  for (size_t x = 0; x < n; ++x, in += 3) {
    r[x] = in[0];
    g[x] = in[1];
    b[x] = in[2];
  }
}

#if defined(CBIR_HAVE_SSSE3_PATH)
__attribute__((target("ssse3"))) __m128i gather(__m128i a, __m128i b, __m128i c, __m128i ka,
                                                 __m128i kb, __m128i kc) {
  return _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, ka), _mm_shuffle_epi8(b, kb)),
                      _mm_shuffle_epi8(c, kc));
}

// 16 pixels (48 bytes) per step: each channel gathered from the three 16-byte loads by pshufb
// (index -1 gives 0) and or-ed together.
__attribute__((target("ssse3"))) void deinterleave_ssse3(const uint8_t* in, size_t n,
                                                         uint8_t* r, uint8_t* g, uint8_t* b) {
  const auto mask = [](int8_t first, int8_t step, int from, int count) {
    alignas(16) int8_t m[16];
    for (int i = 0; i < 16; ++i) m[i] = -1;
    for (int i = 0; i < count; ++i) m[from + i] = static_cast<int8_t>(first + step * i);
    return _mm_load_si128(reinterpret_cast<const __m128i*>(m));
  };
  // Channel c's bytes sit at 3k + c of the 48; those are in the first, second or third load.
  const __m128i ra = mask(0, 3, 0, 6), rb = mask(2, 3, 6, 5), rc = mask(1, 3, 11, 5);
  const __m128i ga = mask(1, 3, 0, 5), gb = mask(0, 3, 5, 6), gc = mask(2, 3, 11, 5);
  const __m128i ba = mask(2, 3, 0, 5), bb = mask(1, 3, 5, 5), bc = mask(0, 3, 10, 6);
  size_t x = 0;
  for (; x + 16 <= n; x += 16, in += 48) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
    const __m128i m = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 16));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 32));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(r + x), gather(a, m, c, ra, rb, rc));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(g + x), gather(a, m, c, ga, gb, gc));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b + x), gather(a, m, c, ba, bb, bc));
  }
  deinterleave_portable(in, n - x, r + x, g + x, b + x);
}
#endif

void deinterleave(const uint8_t* in, size_t n, uint8_t* r, uint8_t* g, uint8_t* b,
                  Kernels kernels) {
#if defined(CBIR_HAVE_SSSE3_PATH)
  static const bool ssse3 = __builtin_cpu_supports("ssse3");
  if (kernels == Kernels::best && ssse3) return deinterleave_ssse3(in, n, r, g, b);
#endif
  (void)kernels;
  deinterleave_portable(in, n, r, g, b);
}

// One output row of the horizontal pass from one source row, split into channel planes
// (planes[c] holds the row's channel c from column `offset` on, zero-padded by `stride`).
void horizontal_row(const uint8_t* const planes[3], int offset, const Taps& t, uint8_t* dst,
                    Kernels kernels) {
  const int w = static_cast<int>(t.start.size());
  for (int xx = 0; xx < w; ++xx, dst += 3) {
    const int s = t.start[xx] - offset, n = t.count[xx];
    const size_t at = static_cast<size_t>(xx) * t.stride;
#if defined(__SSE2__)
    if (kernels == Kernels::best) {
      const __m128i zero = _mm_setzero_si128();
      __m128i lo_r = zero, hi_r = zero, lo_g = zero, hi_g = zero, lo_b = zero, hi_b = zero;
      for (int i = 0; i < n; i += 8) {
        const __m128i klo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&t.lo[at + i]));
        const __m128i khi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&t.hi[at + i]));
        auto load = [&](int c) {
          return _mm_unpacklo_epi8(
              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(planes[c] + s + i)), zero);
        };
        const __m128i r = load(0), g = load(1), b = load(2);
        lo_r = _mm_add_epi32(lo_r, _mm_madd_epi16(r, klo));
        hi_r = _mm_add_epi32(hi_r, _mm_madd_epi16(r, khi));
        lo_g = _mm_add_epi32(lo_g, _mm_madd_epi16(g, klo));
        hi_g = _mm_add_epi32(hi_g, _mm_madd_epi16(g, khi));
        lo_b = _mm_add_epi32(lo_b, _mm_madd_epi16(b, klo));
        hi_b = _mm_add_epi32(hi_b, _mm_madd_epi16(b, khi));
      }
      const uint32_t rgb = static_cast<uint32_t>(
          _mm_cvtsi128_si32(finish_rgb(lo_r, hi_r, lo_g, hi_g, lo_b, hi_b)));
      dst[0] = static_cast<uint8_t>(rgb);
      dst[1] = static_cast<uint8_t>(rgb >> 8);
      dst[2] = static_cast<uint8_t>(rgb >> 16);
      continue;
    }
#endif
    (void)kernels;
    const int32_t* k = &t.weights[at];
    for (int c = 0; c < 3; ++c) {
      const uint8_t* p = planes[c] + s;
      int32_t sum = kHalf;
      for (int i = 0; i < n; ++i) sum += p[i] * k[i];
      dst[c] = clip8(sum);
    }
  }
}

// Rows [row0, row0 + rows) of src, each resampled horizontally to the taps' outputs.
Image horizontal(const Image& src, int row0, int rows, const Taps& t, Kernels kernels) {
  const int w = static_cast<int>(t.start.size());
  const int first = t.start.front(), last = t.start.back() + t.count.back();
  const size_t span = static_cast<size_t>(last - first);
  Image out;
  out.width = w;
  out.height = rows;
  out.rgb.resize(static_cast<size_t>(w) * rows * 3);
  // Channel planes of the current source row, padded so that 8-tap loads stay inside.
  std::vector<uint8_t> buffer(3 * (span + t.stride), 0);
  uint8_t* const r = buffer.data();
  uint8_t* const g = r + span + t.stride;
  uint8_t* const b = g + span + t.stride;
  const uint8_t* const planes[3] = {r, g, b};
  for (int y = 0; y < rows; ++y) {
    deinterleave(src.rgb.data() + ((static_cast<size_t>(row0) + y) * src.width + first) * 3, span,
                 r, g, b, kernels);
    horizontal_row(planes, first, t, out.rgb.data() + static_cast<size_t>(y) * w * 3, kernels);
  }
  return out;
}

// Every column of src resampled vertically; the taps' starts are rows of src.
Image vertical(const Image& src, const Taps& t, Kernels kernels) {
  const int h = static_cast<int>(t.start.size());
  const size_t row = static_cast<size_t>(src.width) * 3;
  Image out;
  out.width = src.width;
  out.height = h;
  out.rgb.resize(row * h);
  std::vector<int32_t> acc(row);
  for (int yy = 0; yy < h; ++yy) {
    const size_t at = static_cast<size_t>(yy) * t.stride;
    const uint8_t* in = src.rgb.data() + t.start[yy] * row;
    const int n = t.count[yy];
    uint8_t* dst = out.rgb.data() + yy * row;
    size_t x = 0;
#if defined(__SSE2__)
    if (kernels == Kernels::best) {
      // 8 values at a time; two source rows per step, interleaved so that one pmaddwd adds
      // both rows' products with their two coefficients.
      const __m128i zero = _mm_setzero_si128();
      for (; x + 8 <= row; x += 8) {
        __m128i lo0 = zero, lo1 = zero, hi0 = zero, hi1 = zero;
        for (int i = 0; i < n; i += 2) {
          const __m128i a = _mm_unpacklo_epi8(
              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in + i * row + x)), zero);
          const __m128i b =
              i + 1 < n ? _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(
                                                in + (i + 1) * row + x)),
                                            zero)
                        : zero;  // an odd count: the last row pairs with nothing
          const __m128i ab0 = _mm_unpacklo_epi16(a, b), ab1 = _mm_unpackhi_epi16(a, b);
          const __m128i klo = _mm_set1_epi32(pair16(t.lo[at + i], t.lo[at + i + 1]));
          const __m128i khi = _mm_set1_epi32(pair16(t.hi[at + i], t.hi[at + i + 1]));
          lo0 = _mm_add_epi32(lo0, _mm_madd_epi16(ab0, klo));
          lo1 = _mm_add_epi32(lo1, _mm_madd_epi16(ab1, klo));
          hi0 = _mm_add_epi32(hi0, _mm_madd_epi16(ab0, khi));
          hi1 = _mm_add_epi32(hi1, _mm_madd_epi16(ab1, khi));
        }
        const __m128i half = _mm_set1_epi32(kHalf);
        const __m128i v0 = _mm_srai_epi32(
            _mm_add_epi32(_mm_add_epi32(_mm_slli_epi32(hi0, kLoBits), lo0), half), kPrecisionBits);
        const __m128i v1 = _mm_srai_epi32(
            _mm_add_epi32(_mm_add_epi32(_mm_slli_epi32(hi1, kLoBits), lo1), half), kPrecisionBits);
        // Saturating packs clamp to 0..255, as clip8 does.
        const __m128i bytes = _mm_packus_epi16(_mm_packs_epi32(v0, v1), zero);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + x), bytes);
      }
    }
#endif
    (void)kernels;
    if (x == row) continue;
    std::fill(acc.begin() + x, acc.end(), kHalf);
    for (int i = 0; i < n; ++i) {
      const uint8_t* p = in + i * row;
      const int32_t k = t.weights[at + i];
      for (size_t c = x; c < row; ++c) acc[c] += p[c] * k;
    }
    for (size_t c = x; c < row; ++c) dst[c] = clip8(acc[c]);
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
               int w, int h, Kernels kernels) {
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
  Image tmp = need_horizontal ? horizontal(src, row0, rows,
                                           compute_taps(src.width, out_w, x0, w, filter), kernels)
                              : crop(src, x0, row0, w, rows);
  return need_vertical ? vertical(tmp, vert, kernels) : tmp;
}

}  // namespace cbir::image::detail
