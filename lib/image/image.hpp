// Decoding and preprocessing: from files, memory or raw pixels to the float CHW batch rows the
// image encoders take. Contract shared with lib/model, lib/ingest and lib/c_api; lib/image/
// implements it. Every failure is a cbir::Error with a CBIR_EIMAGE_* (or CBIR_EIO/ENOTFOUND,
// CBIR_EINVAL for bad arguments) code and a message naming the file and the reason.
// Every function may run on any number of threads at once (the only shared state, the pixel
// memory cache, is locked).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/photo_meta.hpp"

namespace cbir::image {

namespace detail {
void* acquire_pixels(size_t bytes);                  // throws std::bad_alloc
void release_pixels(void* ptr, size_t bytes) noexcept;
}  // namespace detail

// Pixel memory: large blocks are recycled through a small cache (pixel_memory.cpp) instead of
// being faulted in afresh for every image, and resize() leaves new bytes uninitialised, since
// every producer of pixels writes all of them.
template <class T>
struct PixelAllocator {
  using value_type = T;
  PixelAllocator() = default;
  template <class U>
  PixelAllocator(const PixelAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(detail::acquire_pixels(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { detail::release_pixels(p, n * sizeof(T)); }
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;  // default-initialised: no zero fill
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <class U>
  bool operator==(const PixelAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const PixelAllocator<U>&) const noexcept { return false; }
};
using Pixels = std::vector<uint8_t, PixelAllocator<uint8_t>>;

// How a file stored its pixels, as far as Chinese-CLIP's own order of operations needs it
// (Recipe::resize_before_rgb): Pillow resizes an indexed image (its modes "P" and "1") by
// nearest neighbour whatever filter is asked, and an image with alpha ("RGBA", "LA") with
// premultiplied alpha. Every other mode resizes as its RGB conversion would.
enum class Stored { rgb, indexed, alpha };

// 8-bit RGB, rows of width*3 bytes, no padding (what Pillow's convert('RGB') gives):
// rgb.size() == width * height * 3. Where stored == alpha, the alpha plane too (width * height
// bytes); it never changes the RGB values.
struct Image {
  int width = 0;
  int height = 0;
  Pixels rgb;
  Stored stored = Stored::rgb;
  Pixels alpha;
};

struct DecodeOptions {
  bool exif_orientation = true;      // apply EXIF orientation like ImageOps.exif_transpose
  uint64_t max_pixels = 89478485;    // checked against the header before allocating
  // Fast JPEG path: when > 0, decode at the smallest DCT scale (1/2, 1/4, 1/8) whose shorter
  // side is still >= 2 * fast_min_side, then resample. 0 = exact (the default).
  int fast_min_side = 0;
};

// The format comes from the bytes, never the name: JPEG, PNG, GIF (first frame), BMP, TGA,
// binary PNM, and where the build has their libraries WebP, TIFF, HEIC/HEIF, AVIF, JPEG XL
// (decodable_formats()). Codes: CBIR_EIMAGE_EMPTY, _FORMAT, _TRUNCATED, _CORRUPT, _DIMENSIONS,
// _TOO_LARGE; for files also CBIR_ENOTFOUND and CBIR_EIO.
Image decode_file(const std::string& path, const DecodeOptions& opts);
// `name` only labels error messages (a path, "buffer", an upload's file name). With `meta`,
// also the file's format and what its EXIF says (capture time, camera, GPS) into *meta.
Image decode_memory(const uint8_t* data, size_t size, const DecodeOptions& opts,
                    const std::string& name = "buffer", PhotoMeta* meta = nullptr);

// The formats this build decodes, space-separated: "jpeg png gif bmp tga pnm webp tiff heic avif
// jxl" (the optional ones only when compiled in; heic and avif only when libheif has the codec).
std::string decodable_formats();

enum class PixelFormat { rgb8, rgba8, gray8 };
// Raw pixels with a row stride in bytes (0 = tightly packed). Gray is replicated; alpha is kept
// aside (Stored::alpha), as decoding an RGBA file keeps it.
Image from_pixels(const uint8_t* pixels, int width, int height, size_t stride, PixelFormat format);

enum class Resize { squash, shorter_side_then_center_crop };
enum class Interpolation { bicubic, bilinear };

// A preprocessing recipe, as a model bundle names it.
struct Recipe {
  Resize resize = Resize::squash;
  int size = 224;  // squash: output is size x size; shorter_side...: the shorter side's length
  int crop = 224;  // shorter_side_then_center_crop only: the square crop taken from the centre
  Interpolation interpolation = Interpolation::bicubic;
  std::array<float, 3> mean{0.48145466f, 0.4578275f, 0.40821073f};
  std::array<float, 3> std{0.26862954f, 0.26130258f, 0.27577711f};
  // Chinese-CLIP's transform resizes the image in the mode its file has and converts it to
  // RGB after (indexed images by nearest neighbour, alpha premultiplied; see Stored); false:
  // convert first, as DINOv2 and torchvision pipelines that open with convert('RGB') do.
  bool resize_before_rgb = false;

  int output_side() const { return resize == Resize::squash ? size : crop; }
};

// Pillow-exact resize (and centre crop) for the recipe, as torchvision 0.14 does it on a PIL
// image: uint8 HWC, output_side() square. CBIR_EINVAL for a size or crop outside 1..16384.
Image resize_for(const Image& src, const Recipe& recipe);

// (x/255 - mean) / std into out[3 * side * side], channel-major (CHW), in float32 exactly as
// ToTensor + Normalize compute it.
void normalize_chw(const Image& resized, const Recipe& recipe, float* out);

// Decode options a recipe implies for the fast path (fast_min_side from the target size).
DecodeOptions fast_options_for(const Recipe& recipe, DecodeOptions base);

}  // namespace cbir::image
