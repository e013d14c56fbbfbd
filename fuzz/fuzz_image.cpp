// Image decoding from memory with the photo's facts, then the preprocessing a model would apply. Any input must give
// an image or a cbir::Error with an image code, never a crash, a leak or undefined behaviour.
#include <cstdint>
#include <vector>

#include "common/error.hpp"
#include "image/image.hpp"

using namespace cbir::image;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DecodeOptions opts;
  opts.max_pixels = 4u << 20;  // bombs must be refused from the header; keeps runs fast
  // The last byte picks the decode path, so the same image is tried both ways.
  if (size > 0) {
    opts.exif_orientation = (data[size - 1] & 1) != 0;
    opts.fast_min_side = (data[size - 1] & 2) ? 16 : 0;
  }
  Image img;
  cbir::PhotoMeta meta;  // the EXIF facts are read too (libexif on the file's EXIF block)
  try {
    img = decode_memory(data, size, opts, "fuzz", &meta);
  } catch (const cbir::Error&) {
    return 0;
  }
  if (img.width <= 0 || img.height <= 0 ||
      img.rgb.size() != size_t(img.width) * size_t(img.height) * 3)
    __builtin_trap();  // decode_memory's contract

  Recipe squash;
  squash.size = 7;
  Recipe crop;
  crop.resize = Resize::shorter_side_then_center_crop;
  crop.size = 9;
  crop.crop = 8;
  crop.interpolation = Interpolation::bilinear;
  for (const Recipe& r : {squash, crop}) {
    Image out = resize_for(img, r);
    std::vector<float> chw(size_t(3) * r.output_side() * r.output_side());
    normalize_chw(out, r, chw.data());
  }
  return 0;
}
