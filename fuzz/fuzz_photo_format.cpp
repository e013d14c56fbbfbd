// One decoder of the optional photo formats (WebP, TIFF, HEIF/AVIF, JPEG XL), called directly
// so every input reaches it, whatever its first bytes: FUZZ_FORMAT names it (fuzz/CMakeLists.txt
// builds one target per format compiled in). Any input must give an image or a cbir::Error,
// never a crash, a leak, a hang or undefined behaviour.
#include <cstdint>
#include <string>

#include "common/error.hpp"
#include "image/decoders.hpp"

using namespace cbir::image;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DecodeOptions opts;
  opts.max_pixels = 4u << 20;  // bombs must be refused from the header; keeps runs fast
  detail::Decoded out;
  try {
#if FUZZ_FORMAT == 1
    out = detail::decode_webp(data, size, opts, "fuzz");
#elif FUZZ_FORMAT == 2
    out = detail::decode_tiff(data, size, opts, "fuzz");
#elif FUZZ_FORMAT == 3
    out = detail::decode_heif(data, size, opts, "fuzz",
                              size > 0 && (data[size - 1] & 1) ? detail::Format::avif : detail::Format::heif);
#elif FUZZ_FORMAT == 4
    out = detail::decode_jxl(data, size, opts, "fuzz");
#endif
  } catch (const cbir::Error&) {
    return 0;
  }
  if (out.image.width <= 0 || out.image.height <= 0 ||
      out.image.rgb.size() != size_t(out.image.width) * size_t(out.image.height) * 3 ||
      uint64_t(out.image.width) * uint64_t(out.image.height) > opts.max_pixels)
    __builtin_trap();  // the decoders' contract
  cbir::PhotoMeta meta;
  detail::read_exif_facts(out.exif.data(), out.exif.size(), meta);
  (void)detail::apply_orientation(std::move(out.image), out.orientation);
  return 0;
}
