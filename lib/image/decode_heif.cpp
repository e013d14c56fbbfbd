// HEIC/HEIF and AVIF through libheif: the primary image (for an AVIF sequence, its still, the
// first frame), decoded to 8-bit RGB as libheif's 8-bit output does (10- and 12-bit files
// included), with the file's rotation, mirroring and cropping applied by libheif. The EXIF
// orientation inside a HEIF restates those transforms and is not applied a second time.
#include <libheif/heif.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>

#include "common/error.hpp"
#include "image/decoders.hpp"

namespace cbir::image::detail {
namespace {

// libheif's plugins (the HEVC and AV1 decoders) are registered once per process.
void init_once() {
  static const bool done = [] {
    heif_init(nullptr);
    return true;
  }();
  (void)done;
}

// Each libheif object with its release function (some take a const pointer).
struct Free {
  void operator()(heif_context* p) const { heif_context_free(p); }
  void operator()(heif_image_handle* p) const { heif_image_handle_release(p); }
  void operator()(heif_image* p) const { heif_image_release(p); }
  void operator()(heif_decoding_options* p) const { heif_decoding_options_free(p); }
};

// The AV1 decoder to ask libheif for: libaom's where it has it. dav1d is twice as fast, but
// libheif 1.15 leaves it on its default logger, which prints to stderr on malformed data
// ("Unknown OBU type"), and it leaks on some of those (libheif issue 1753); a library must not
// print. libheif 1.15 still decodes an alpha plane with dav1d (it does not pass the choice on).
const char* av1_decoder() {
  static const char* const id = []() -> const char* {
    const heif_decoder_descriptor* found[8];
    const int n = heif_get_decoder_descriptors(heif_compression_AV1, found, 8);
    for (int i = 0; i < n; ++i) {
      const char* name = heif_decoder_descriptor_get_id_name(found[i]);
      if (name && std::strcmp(name, "aom") == 0) return "aom";
    }
    return nullptr;  // libheif's default
  }();
  return id;
}

}  // namespace

bool heif_decodes(Format format) {
  init_once();
  return heif_have_decoder_for_format(format == Format::avif ? heif_compression_AV1
                                                             : heif_compression_HEVC) != 0;
}

Decoded decode_heif(const uint8_t* data, size_t size, const DecodeOptions& opts,
                    const std::string& name, Format format) {
  init_once();
  const char* kind = format == Format::avif ? "AVIF" : "HEIF";
  if (!heif_decodes(format))
    fail_image(CBIR_EIMAGE_FORMAT, name,
               std::string("this libheif has no ") + (format == Format::avif ? "AV1" : "HEVC") +
                   " decoder; install " +
                   (format == Format::avif ? "libheif-plugin-dav1d or libheif-plugin-aomdec"
                                           : "libheif-plugin-libde265") +
                   " (or a libheif built with it)");
  auto failed = [&](const heif_error& e, const char* what) {
    std::string message = e.message ? e.message : "unknown error";
    while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back()))) message.pop_back();
    if (e.subcode == heif_suberror_Security_limit_exceeded)
      fail_image(CBIR_EIMAGE_TOO_LARGE, name,
                 std::string(what) + ": " + message + " (a damaged file, or a decompression bomb)");
    const bool cut = e.code == heif_error_Invalid_input &&
                     (e.subcode == heif_suberror_End_of_data || e.subcode == heif_suberror_No_idat_box);
    fail_image(cut ? CBIR_EIMAGE_TRUNCATED : e.code == heif_error_Memory_allocation_error ? CBIR_ENOMEM
                                                                                   : CBIR_EIMAGE_CORRUPT,
               name, std::string(what) + " (" + message + ")" +
                         (cut ? "; the file is incomplete" : "; the file is damaged"));
  };

  std::unique_ptr<heif_context, Free> ctx(heif_context_alloc());
  if (!ctx) fail(CBIR_ENOMEM, "cannot start the HEIF decoder");
  heif_error err = heif_context_read_from_memory_without_copy(ctx.get(), data, size, nullptr);
  if (err.code != heif_error_Ok) failed(err, (std::string("invalid ") + kind + " container").c_str());
  heif_image_handle* raw_handle = nullptr;
  err = heif_context_get_primary_image_handle(ctx.get(), &raw_handle);
  std::unique_ptr<heif_image_handle, Free> handle(
      raw_handle);
  if (err.code != heif_error_Ok) failed(err, (std::string("the ") + kind + " has no primary image").c_str());
  // Both the stored size and the displayed one (after rotation and cropping) within the limit.
  check_dimensions(static_cast<uint64_t>(heif_image_handle_get_ispe_width(handle.get())),
                   static_cast<uint64_t>(heif_image_handle_get_ispe_height(handle.get())), opts, name);
  check_dimensions(static_cast<uint64_t>(heif_image_handle_get_width(handle.get())),
                   static_cast<uint64_t>(heif_image_handle_get_height(handle.get())), opts, name);
  // A grid's or overlay's canvas as its own data declares it, which libheif allocates without
  // comparing it to the sizes above.
  if (const auto canvas = heif_derived_canvas(data, size))
    check_dimensions(canvas->first, canvas->second, opts, name);
  // No image the decoder reads for it (a grid's tiles, an alpha plane) may be larger on either
  // side than the primary image itself: a damaged grid of oversized tiles made libheif
  // allocate 3 GB for a 64x64 picture (fuzz_heif). libheif's own default allows 32768.
  const int side = std::max({heif_image_handle_get_ispe_width(handle.get()),
                             heif_image_handle_get_ispe_height(handle.get()),
                             heif_image_handle_get_width(handle.get()),
                             heif_image_handle_get_height(handle.get())});
  heif_context_set_maximum_image_size_limit(ctx.get(), std::min(side, 32767) + 1);

  std::unique_ptr<heif_decoding_options, Free>
      options(heif_decoding_options_alloc());
  if (!options) fail(CBIR_ENOMEM, "cannot start the HEIF decoder");
  options->convert_hdr_to_8bit = 1;
  // Named whatever the file's brand says (a HEIF may hold AV1); libheif 1.15 uses the name only
  // for the codec it belongs to and its default decoder for the others (tested on HEVC).
  options->decoder_id = av1_decoder();
  heif_image* raw_image = nullptr;
  err = heif_decode_image(handle.get(), &raw_image, heif_colorspace_RGB,
                          heif_chroma_interleaved_RGB, options.get());
  std::unique_ptr<heif_image, Free> image(raw_image);
  if (err.code != heif_error_Ok) failed(err, (std::string("the ") + kind + " image data cannot be decoded").c_str());

  const int width = heif_image_get_width(image.get(), heif_channel_interleaved);
  const int height = heif_image_get_height(image.get(), heif_channel_interleaved);
  int stride = 0;
  const uint8_t* rgb = heif_image_get_plane_readonly(image.get(), heif_channel_interleaved, &stride);
  if (rgb == nullptr || width <= 0 || height <= 0 || stride < 3 * width)
    fail_image(CBIR_EIMAGE_CORRUPT, name, std::string("libheif returned no 8-bit RGB pixels for this ") + kind);
  check_dimensions(static_cast<uint64_t>(width), static_cast<uint64_t>(height), opts, name);
  Decoded out;
  out.image.width = width;
  out.image.height = height;
  out.image.rgb.resize(size_t{3} * width * height);
  for (int y = 0; y < height; ++y)
    std::memcpy(out.image.rgb.data() + size_t{3} * width * y, rgb + size_t(stride) * y, size_t{3} * width);

  // The first Exif block, for the photo's metadata: a 4-byte offset to the TIFF header, then
  // the block. Small (the block's size is the file's to say, so it is capped).
  heif_item_id exif_id = 0;
  if (heif_image_handle_get_list_of_metadata_block_IDs(handle.get(), "Exif", &exif_id, 1) == 1) {
    const size_t n = heif_image_handle_get_metadata_size(handle.get(), exif_id);
    if (n > 4 && n <= (size_t{1} << 20)) {
      std::vector<uint8_t> block(n);
      if (heif_image_handle_get_metadata(handle.get(), exif_id, block.data()).code == heif_error_Ok) {
        const uint32_t skip = (uint32_t{block[0]} << 24) | (block[1] << 16) | (block[2] << 8) | block[3];
        if (skip < n - 4) out.exif.assign(block.begin() + 4 + skip, block.end());
      }
    }
  }
  return out;
}

}  // namespace cbir::image::detail
