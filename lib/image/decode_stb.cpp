// PNG, GIF (first frame), BMP, TGA and binary PNM through stb_image, whose implementation is
// compiled here, static, so no stb symbol leaves the library. stb reads through callbacks that
// notice when it asks for bytes past the end: stb itself would read zeros there and hand back
// a partly blank image as if it were whole.
#include <array>
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
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_TGA
#define STBI_ONLY_PNM
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
  if (one_of(reason, {"BMP RLE", "BMP JPEG/PNG", "unknown BMP", "unsupported bit depth",
                      "unsupported", "max value > 65535", "1/2/4/8/16-bit only", "wrong version",
                      "bad bpp", "bad masks", "monochrome"}))
    fail_image(CBIR_EIMAGE_FORMAT, name,
               "this kind of " + fmt + " is not supported (" + reason +
                   "); convert it to PNG or JPEG");
  fail_image(CBIR_EIMAGE_CORRUPT, name, "the " + fmt + " data is damaged (" + reason + ")");
}

uint32_t le16(const uint8_t* p) { return p[0] | (p[1] << 8); }
uint32_t le32(const uint8_t* p) { return le16(p) | (le16(p + 2) << 16); }

// A binary PNM's header ("P6 <width> <height> <maxval>" with comments, then one whitespace
// byte): its length and maxval, {0, 0} when it cannot be read (stb then refuses the file).
// too_long: a number of more than 9 digits, which stb's parser overflows an int on.
struct PnmHeader {
  size_t length = 0;
  uint32_t maxval = 0;
  bool too_long = false;
};
PnmHeader pnm_header(const uint8_t* d, size_t n) {
  size_t i = 2;
  uint32_t value = 0;
  for (int field = 0; field < 3; ++field) {
    while (i < n && (std::isspace(d[i]) || d[i] == '#'))
      if (d[i] == '#') {
        while (i < n && d[i] != '\n' && d[i] != '\r') ++i;
      } else {
        ++i;
      }
    if (i >= n || !std::isdigit(d[i])) return {};
    const size_t start = i;
    for (value = 0; i < n && std::isdigit(d[i]); ++i)
      if (i - start < 9) value = value * 10 + (d[i] - '0');
    if (i - start > 9) return {0, 0, true};
  }
  return {i + 1, value};
}

// The fewest bytes a file of the uncompressed formats needs for its pixels (0 = no bound): a
// small file claiming many pixels is refused before stb allocates and fills them, and stb,
// which ignores short reads of whole rows, never sees a file that ends inside its pixels.
double minimum_bytes(const uint8_t* d, size_t n, Format format, int width, int height,
                     int channels) {
  const double pixels = double(width) * height;
  if (format == Format::pnm) {
    const PnmHeader header = pnm_header(d, n);
    return header.length + pixels * channels * (header.maxval > 255 ? 2 : 1);
  }
  if (format == Format::tga && n >= 18) {
    const double header = 18.0 + d[0] + (d[1] == 1 ? le16(d + 5) * ((d[7] + 7) / 8) : 0);
    const double bytes_per_pixel = (d[16] + 7) / 8;
    const bool rle = d[2] >= 9;  // a run packet: 1 header byte + 1 pixel for up to 128 pixels
    return header + (rle ? std::ceil(pixels / 128) * (1 + bytes_per_pixel) : pixels * bytes_per_pixel);
  }
  if (format == Format::bmp && n >= 34) {
    const bool core = le32(d + 14) == 12;  // OS/2 header: no compression field
    const int bpp = le16(d + (core ? 24 : 28));
    const uint32_t compression = core ? 0 : le32(d + 30);
    if (compression != 0 && compression != 3 && compression != 6) return 0;  // stb refuses these
    return le32(d + 10) + std::ceil(double(width) * bpp / 32) * 4 * height;  // rows padded to 4
  }
  return 0;
}

// The colour Pillow shows where a GIF's first frame leaves the canvas transparent: Pillow
// fills the canvas with the transparent index (index 0 without one) and convert('RGB') looks
// it up in the frame's palette, where stb gives black. Black when the file cannot say.
std::array<uint8_t, 3> gif_fill_colour(const uint8_t* d, size_t n) {
  std::array<uint8_t, 3> colour{0, 0, 0};
  if (n < 13) return colour;
  size_t table = 0, entries = 0;  // offset and size of the palette in use
  size_t pos = 13;
  if (d[10] & 0x80) {  // global colour table
    entries = size_t{2} << (d[10] & 7);
    table = pos;
    pos += 3 * entries;
  }
  int transparent = -1;
  while (pos < n) {
    if (d[pos] == 0x21 && pos + 1 < n) {  // an extension: maybe the graphic control one
      const uint8_t label = d[pos + 1];
      pos += 2;
      if (label == 0xF9 && pos + 5 < n && d[pos] == 4 && (d[pos + 1] & 1)) transparent = d[pos + 4];
      while (pos < n && d[pos] != 0) pos += d[pos] + 1;  // its data sub-blocks
      ++pos;
    } else if (d[pos] == 0x2C && pos + 9 < n) {  // the first frame: its own table, if any
      if (d[pos + 9] & 0x80) {
        entries = size_t{2} << (d[pos + 9] & 7);
        table = pos + 10;
      }
      break;
    } else {
      break;
    }
  }
  const size_t index = transparent >= 0 ? static_cast<size_t>(transparent) : 0;
  const size_t at = table + 3 * index;
  if (entries > 0 && index < entries && at + 3 <= n) colour = {d[at], d[at + 1], d[at + 2]};
  return colour;
}

}  // namespace

Image decode_stb(const uint8_t* data, size_t size, const DecodeOptions& opts,
                 const std::string& name, Format format) {
  int width = 0, height = 0, channels = 0;
  if (format == Format::pnm) {
    const PnmHeader pnm = pnm_header(data, size);
    if (pnm.too_long)
      fail_image(CBIR_EIMAGE_CORRUPT, name, "the PNM header holds a number of more than 9 digits "
                                            "(width, height or maxval); the file is damaged");
    // stb reads 16-bit samples in the wrong byte order, and its 16-bit gray-to-RGB conversion
    // reads past its buffer (found by fuzz_image).
    if (pnm.maxval > 255)
      fail_image(CBIR_EIMAGE_FORMAT, name, "16-bit PNM (maxval " + std::to_string(pnm.maxval) +
                                               ") is not supported; convert it to PNG");
  }
  {
    Reader header{data, size};
    if (!stbi_info_from_callbacks(&kCallbacks, &header, &width, &height, &channels))
      fail_stb(header, name, format);
    check_dimensions(static_cast<uint64_t>(width), static_cast<uint64_t>(height), opts, name);
    if (double(size) < minimum_bytes(data, size, format, width, height, channels))
      fail_image(CBIR_EIMAGE_TRUNCATED, name,
                 std::string("the ") + format_name(format) + " data ends early (" +
                     std::to_string(size) + " bytes, too few for " + std::to_string(width) +
                     "x" + std::to_string(height) + " pixels); the file is incomplete");
  }
  Reader reader{data, size};
  const bool gif = format == Format::gif;  // RGBA, to find the pixels stb leaves transparent
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_callbacks(&kCallbacks, &reader, &width, &height, &channels, gif ? 4 : 3),
      stbi_image_free);
  if (!pixels || reader.overread) fail_stb(reader, name, format);

  Image img;
  img.width = width;
  img.height = height;
  const size_t count = static_cast<size_t>(width) * height;
  if (!gif) {
    img.rgb.assign(pixels.get(), pixels.get() + count * 3);
    return img;
  }
  const std::array<uint8_t, 3> fill = gif_fill_colour(data, size);
  img.rgb.resize(count * 3);
  const stbi_uc* in = pixels.get();
  uint8_t* out = img.rgb.data();
  for (size_t i = 0; i < count; ++i, in += 4, out += 3) {
    const uint8_t* rgb = in[3] == 0 ? fill.data() : in;
    out[0] = rgb[0];
    out[1] = rgb[1];
    out[2] = rgb[2];
  }
  return img;
}

}  // namespace cbir::image::detail
