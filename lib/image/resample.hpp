// Pillow's resampling (libImaging/Resample.c, 8 bits per channel), reimplemented so that the
// output is identical to Image.resize(): the same filters and supports, antialiasing by
// widening the filter when shrinking, coefficients in fixed point with 22 fraction bits and
// rounding, a horizontal pass into 8-bit rows first and a vertical pass after.
#pragma once

#include "image/image.hpp"

namespace cbir::image::detail {

// best: SSE2 where the compiler targets it; portable: plain C++ (the same bytes, for tests).
enum class Kernels { best, portable };

// The pixels [x0, x0 + w) x [y0, y0 + h) of Image.resize((out_w, out_h), filter), computing only
// those: a centre crop of a large resize costs what the crop needs. The window lies inside
// the output; throws CBIR_EINVAL otherwise.
Image resample(const Image& src, int out_w, int out_h, Interpolation filter, int x0, int y0,
               int w, int h, Kernels kernels = Kernels::best);

// The same window of Image.resize applied in the mode the image was stored in (Stored), then
// converted to RGB: nearest neighbour for indexed images, premultiplied alpha for images with
// alpha, resample() for the rest. Chinese-CLIP's order (Recipe::resize_before_rgb).
Image resample_stored(const Image& src, int out_w, int out_h, Interpolation filter, int x0,
                      int y0, int w, int h);

}  // namespace cbir::image::detail
