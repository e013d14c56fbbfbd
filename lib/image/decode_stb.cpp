// PNG and TGA through stb_image, whose implementation is
// compiled here, static, so no stb symbol leaves the library. stb reads through callbacks that
// notice when it asks for bytes past the end: stb itself would read zeros there and hand back
// a partly blank image as if it were whole.
#include <cctype>
#include <cmath>
#include <cstring>
#include <memory>
#include <utility>

#include "common/error.hpp"
#include "image/decoders.hpp"

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_NO_STDIO  // files are read by decode.cpp
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_ONLY_PNG
#define STBI_ONLY_TGA
// Bad input is reported through stb's error path; an assert must never abort the host.
#define STBI_ASSERT(x) ((void)0)
// stb's own cap on either side, on top of the pixel limit checked before decoding.
#define STBI_MAX_DIMENSIONS (1 << 24)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace cbir::image::detail {
namespace {

struct Reader {
  const uint8_t* data;
  size_t size;
  size_t pos = 0;
  bool overread = false;  // stb wanted bytes the data does not have
};

int read_cb(void* user, char* out, int n) {
  auto* r = static_cast<Reader*>(user);
  const size_t left = r->size - r->pos;
  if (left == 0) {
    r->overread = true;
    return 0;
  }
  const size_t k = left < static_cast<size_t>(n) ? left : static_cast<size_t>(n);
  std::memcpy(out, r->data + r->pos, k);
  r->pos += k;
  return static_cast<int>(k);
}

void skip_cb(void* user, int n) {
  auto* r = static_cast<Reader*>(user);
  const size_t left = r->size - r->pos;
  if (n > 0 && static_cast<size_t>(n) > left) r->overread = true;
  r->pos += n > 0 ? (static_cast<size_t>(n) < left ? static_cast<size_t>(n) : left) : 0;
}

int eof_cb(void* user) {
  auto* r = static_cast<Reader*>(user);
  return r->pos >= r->size;
}

const stbi_io_callbacks kCallbacks{read_cb, skip_cb, eof_cb};

bool one_of(const std::string& s, std::initializer_list<const char*> list) {
  for (const char* x : list)
    if (s == x) return true;
  return false;
}

// Turns stb's short failure reason into a status code and a message.
[[noreturn]] void fail_stb(const Reader& r, const std::string& name, Format format) {
  const char* why = stbi_failure_reason();
  const std::string reason = why ? why : "unknown";
  const std::string fmt = format_name(format);
  if (r.overread || one_of(reason, {"outofdata", "not enough pixels", "read past buffer"}))
    fail_image(CBIR_EIMAGE_TRUNCATED, name,
               "the " + fmt + " data ends early (" + std::to_string(r.size) +
                   " bytes); the file is incomplete");
  if (reason == "outofmem") fail(CBIR_ENOMEM, name + ": out of memory decoding the " + fmt);
  if (reason == "too large")
    fail_image(CBIR_EIMAGE_TOO_LARGE, name, "the " + fmt + " is too large for its decoder");
  if (one_of(reason, {"unsupported bit depth",
                      "unsupported", "1/2/4/8/16-bit only", "wrong version",
                      "bad bpp", "bad masks", "monochrome"}))
    fail_image(CBIR_EIMAGE_FORMAT, name,
               "this kind of " + fmt + " is not supported (" + reason +
                   "); convert it to PNG or JPEG");
  fail_image(CBIR_EIMAGE_CORRUPT, name, "the " + fmt + " data is damaged (" + reason + ")");
}

// The fewest bytes a TGA needs for its pixels (0 = no bound): a small file claiming many
// pixels is refused before stb allocates and fills them, and stb, which ignores short reads of
// whole rows, never sees a file that ends inside its pixels.
double minimum_bytes(const uint8_t* d, size_t n, Format format, int width, int height) {
  const double pixels = double(width) * height;
  if (format == Format::tga && n >= 18) {
    const double header = 18.0 + d[0] + (d[1] == 1 ? le16(d + 5) * ((d[7] + 7) / 8) : 0);
    const double bytes_per_pixel = (d[16] + 7) / 8;
    const bool rle = d[2] >= 9;  // a run packet: 1 header byte + 1 pixel for up to 128 pixels
    return header + (rle ? std::ceil(pixels / 128) * (1 + bytes_per_pixel) : pixels * bytes_per_pixel);
  }
  return 0;
}

// How Pillow would hold the file's pixels (Stored), and whether cbir must keep an alpha plane.
Stored stored_mode(const uint8_t* d, size_t n, Format format) {
  if (format == Format::png && n >= 26) {
    const uint8_t depth = d[24], colour_type = d[25];
    if (colour_type == 3 || (colour_type == 0 && depth == 1)) return Stored::indexed;  // P, "1"
    if (colour_type == 4 || colour_type == 6) return Stored::alpha;                    // LA, RGBA
  }
  if (format == Format::tga && n >= 18) {
    if (d[2] == 1 || d[2] == 9) return Stored::indexed;                     // colour-mapped
    if ((d[2] == 2 || d[2] == 10) && d[16] == 32) return Stored::alpha;     // RGBA
  }
  return Stored::rgb;
}

}  // namespace

Image decode_stb(const uint8_t* data, size_t size, const DecodeOptions& opts,
                 const std::string& name, Format format) {
  int width = 0, height = 0, channels = 0;
  {
    Reader header{data, size};
    if (!stbi_info_from_callbacks(&kCallbacks, &header, &width, &height, &channels))
      fail_stb(header, name, format);
    check_dimensions(static_cast<uint64_t>(width), static_cast<uint64_t>(height), opts, name);
    if (double(size) < minimum_bytes(data, size, format, width, height))
      fail_image(CBIR_EIMAGE_TRUNCATED, name,
                 std::string("the ") + format_name(format) + " data ends early (" +
                     std::to_string(size) + " bytes, too few for " + std::to_string(width) +
                     "x" + std::to_string(height) + " pixels); the file is incomplete");
  }
  Reader reader{data, size};
  const Stored stored = stored_mode(data, size, format);
  const bool rgba = stored == Stored::alpha;  // RGBA only where alpha is kept
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_callbacks(&kCallbacks, &reader, &width, &height, &channels, rgba ? 4 : 3),
      stbi_image_free);
  if (!pixels || reader.overread) fail_stb(reader, name, format);

  Image img;
  img.width = width;
  img.height = height;
  img.stored = stored;
  const size_t count = static_cast<size_t>(width) * height;
  if (!rgba) {
    img.rgb.assign(pixels.get(), pixels.get() + count * 3);
    return img;
  }
  rgba_to_rgb(pixels.get(), size_t{4} * width, img, /*keep_alpha=*/true);
  return img;
}

}  // namespace cbir::image::detail
