// BMP, and the bitmaps (DIBs) inside ICO and CUR files, decoded as Pillow 9.4's BmpImagePlugin
// reads them: every header size it reads (OS/2 1.x and 2.x, Windows 3 to 5), 1/4/8-bit palettes
// (a gray palette and indices past the palette read as Pillow's gray ramp), 16/24/32-bit colour
// and bit-field masks, RLE8 and RLE4, bottom-up and top-down rows. Where Pillow 9.4's RLE reader
// departs from the format (it reads a delta's two bytes twice, and drops the last pixel of an
// odd RLE4 literal run) this follows the format.
#include <algorithm>
#include <array>
#include <cstring>

#include "common/error.hpp"
#include "image/decoders.hpp"

namespace cbir::image::detail {
namespace {

constexpr uint32_t kRaw = 0, kRle8 = 1, kRle4 = 2, kBitfields = 3, kAlphaBitfields = 6;

// One colour channel of a bit-field mask: where it sits and how to widen it to 8 bits.
struct Channel {
  uint32_t mask = 0;
  int shift = 0;
  uint32_t max = 0;  // the mask's value range, shifted down
  uint8_t take(uint32_t v) const {
    if (max == 0) return 0;
    const uint32_t x = (v & mask) >> shift;
    return static_cast<uint8_t>(max == 255 ? x : x * 255 / max);  // Pillow's BGR;15/16 widening
  }
};
Channel channel(uint32_t mask) {
  Channel c;
  c.mask = mask;
  if (mask == 0) return c;
  while (!((mask >> c.shift) & 1)) ++c.shift;
  c.max = mask >> c.shift;
  return c;
}

struct Header {
  uint32_t size = 0;  // of the info header
  int64_t width = 0, height = 0;
  bool top_down = false;
  uint32_t bits = 0, compression = kRaw, colors = 0;
  uint32_t masks[4] = {0, 0, 0, 0};  // R, G, B, A
  bool has_masks = false;
  size_t palette_at = 0;  // where the palette starts in the data
  uint32_t entry = 4;     // bytes per palette entry (3 for OS/2 1.x)
};

[[noreturn]] void damaged(const std::string& name, const std::string& why) {
  fail_image(CBIR_EIMAGE_CORRUPT, name, "the BMP data is damaged (" + why + ")");
}
[[noreturn]] void unsupported(const std::string& name, const std::string& why) {
  fail_image(CBIR_EIMAGE_FORMAT, name,
             "this kind of BMP is not supported (" + why + "); convert it to PNG or JPEG");
}

// The info header at `at`, as Pillow reads it.
Header read_header(const uint8_t* d, size_t n, size_t at, const std::string& name) {
  if (n < at + 4) fail_image(CBIR_EIMAGE_TRUNCATED, name, "the BMP data ends inside its header");
  Header h;
  h.size = le32(d + at);
  if (h.size != 12 && h.size != 16 && h.size != 40 && h.size != 52 && h.size != 56 &&
      h.size != 64 && h.size != 108 && h.size != 124)
    damaged(name,
            "an info header of " + std::to_string(h.size) + " bytes, which no BMP version has");
  if (n < at + h.size)
    fail_image(CBIR_EIMAGE_TRUNCATED, name, "the BMP data ends inside its header");
  const uint8_t* p = d + at + 4;
  if (h.size == 12) {  // OS/2 1.x: 16-bit sizes, 3-byte palette entries
    h.width = le16(p);
    h.height = le16(p + 2);
    h.bits = le16(p + 6);
    h.entry = 3;
  } else {
    h.width = static_cast<int32_t>(le32(p));
    const int32_t height = static_cast<int32_t>(le32(p + 4));
    h.top_down = height < 0;
    h.height = h.top_down ? -static_cast<int64_t>(height) : height;
    h.bits = le16(p + 10);
    if (h.size >= 20) h.compression = le32(p + 12);
    if (h.size >= 36) h.colors = le32(p + 28);
  }
  h.palette_at = at + h.size;
  if (h.compression == kBitfields || h.compression == kAlphaBitfields) {
    h.has_masks = true;
    const int count = h.compression == kAlphaBitfields ? 4 : 3;
    if (h.size >= 52) {  // the masks are inside the header
      for (int i = 0; i < 3; ++i) h.masks[i] = le32(d + at + 40 + 4 * i);
      if (h.size >= 56) h.masks[3] = le32(d + at + 52);
    } else {  // a 40-byte header: the masks follow it
      if (n < h.palette_at + 4 * count)
        fail_image(CBIR_EIMAGE_TRUNCATED, name, "the BMP data ends inside its colour masks");
      for (int i = 0; i < count; ++i) h.masks[i] = le32(d + h.palette_at + 4 * i);
      h.palette_at += 4 * count;
    }
  }
  if (h.width <= 0 || h.height == 0)
    fail_image(CBIR_EIMAGE_DIMENSIONS, name,
               "the header says the image is " + std::to_string(h.width) + "x" +
                   std::to_string(h.height) + " pixels; an image needs at least one");
  return h;
}

// The palette as Pillow holds it: its gray ramp (entry i is i, i, i), overwritten by the
// file's entries; a "P" image's indices past the file's entries read the ramp, as do an "L"
// image's (a file whose palette is the ramp itself).
struct Palette {
  std::array<std::array<uint8_t, 3>, 256> rgb;
  bool gray = false;  // Pillow opens the file as "L" or "1", not "P"
};
Palette read_palette(const uint8_t* d, size_t n, const Header& h, const std::string& name) {
  Palette pal;
  for (int i = 0; i < 256; ++i) pal.rgb[i] = {uint8_t(i), uint8_t(i), uint8_t(i)};
  const uint64_t colors = h.colors ? h.colors : uint64_t{1} << h.bits;
  if (colors > 65536)
    damaged(name, "the header claims " + std::to_string(colors) + " palette colours");
  if (h.palette_at + colors * h.entry > n)
    fail_image(CBIR_EIMAGE_TRUNCATED, name, "the BMP data ends inside its palette");
  const uint8_t* p = d + h.palette_at;
  pal.gray = colors <= 256;  // Pillow: each entry i is i, i, i (0 and 255 for two colours)
  for (uint64_t i = 0; i < colors && i < 256; ++i, p += h.entry) {
    const std::array<uint8_t, 3> c{p[2], p[1], p[0]};  // stored B, G, R
    const uint8_t expect = colors == 2 ? uint8_t(i ? 255 : 0) : uint8_t(i);
    pal.gray = pal.gray && c[0] == expect && c[1] == expect && c[2] == expect;
    pal.rgb[i] = c;
  }
  return pal;
}

// RLE8/RLE4 into one index per pixel, rows in file order (bottom-up unless top_down), as
// Pillow's decoder lays them: an end of line pads the row, a delta skips pixels, data past the
// last row is ignored and rows the data never reaches keep index 0. Data that ends early
// keeps what it decoded (Pillow does too).
std::vector<uint8_t> unpack_rle(const uint8_t* d, size_t n, size_t at, const Header& h) {
  const size_t width = static_cast<size_t>(h.width), total = width * static_cast<size_t>(h.height);
  std::vector<uint8_t> idx(total, 0);
  const bool rle4 = h.compression == kRle4;
  size_t out = 0, x = 0, pos = at;
  while (out < total && pos + 2 <= n) {
    const uint8_t count = d[pos], value = d[pos + 1];
    pos += 2;
    if (count > 0) {  // a run: `count` pixels (RLE4: the two nibbles alternate)
      const size_t run = std::min<size_t>(count, x < width ? width - x : 0);
      for (size_t i = 0; i < run && out < total; ++i)
        idx[out++] = rle4 ? uint8_t(i % 2 ? value & 15 : value >> 4) : value;
      x += run;
    } else if (value == 0) {  // end of line
      if (out % width) out += width - out % width;
      x = 0;
    } else if (value == 1) {  // end of bitmap
      break;
    } else if (value == 2) {  // delta: right, up
      if (pos + 2 > n) break;
      const size_t skip = d[pos] + d[pos + 1] * width;
      pos += 2;
      out = std::min(total, out + skip);
      x = out % width;
    } else {  // literal pixels, padded to a 16-bit boundary
      const size_t bytes = rle4 ? (value + 1) / 2 : value;
      for (size_t i = 0; i < value && out < total; ++i) {
        const size_t b = pos + (rle4 ? i / 2 : i);
        if (b >= n) break;
        idx[out++] = rle4 ? uint8_t(i % 2 ? d[b] & 15 : d[b] >> 4) : d[b];
      }
      pos += bytes;
      x += value;
      if (pos % 2) ++pos;  // Pillow aligns on the file offset
    }
  }
  return idx;
}

}  // namespace

Image decode_dib(const uint8_t* data, size_t size, size_t header_at, size_t pixels_at,
                 const DecodeOptions& opts, const std::string& name, bool halve_height,
                 bool alpha32) {
  Header h = read_header(data, size, header_at, name);
  if (halve_height) h.height /= 2;  // an icon's bitmap holds its AND mask below the colours
  check_dimensions(static_cast<uint64_t>(h.width), static_cast<uint64_t>(h.height), opts, name);
  const size_t width = static_cast<size_t>(h.width), height = static_cast<size_t>(h.height);

  const bool indexed = h.bits == 1 || h.bits == 4 || h.bits == 8;
  if (!indexed && h.bits != 16 && h.bits != 24 && h.bits != 32) {
    if (h.bits == 2 || h.bits == 64) unsupported(name, std::to_string(h.bits) + " bits per pixel");
    damaged(name, std::to_string(h.bits) + " bits per pixel");
  }
  const bool rle = h.compression == kRle8 || h.compression == kRle4;
  if (rle && !(h.compression == kRle8 ? h.bits == 8 : h.bits == 4))
    damaged(name, "RLE" + std::to_string(h.compression == kRle8 ? 8 : 4) + " with " +
                      std::to_string(h.bits) + " bits per pixel");
  if (!rle && !h.has_masks && h.compression != kRaw)
    unsupported(name, h.compression == 4   ? "JPEG inside a BMP"
                      : h.compression == 5 ? "PNG inside a BMP"
                                           : "compression " + std::to_string(h.compression));
  if (h.has_masks && indexed) damaged(name, "colour masks on a palette image");

  Palette pal;
  if (indexed) pal = read_palette(data, size, h, name);
  const uint64_t colors = h.colors ? h.colors : uint64_t{1} << h.bits;
  // Where the pixels start: the file header's offset, except that Pillow skips the palette
  // when that offset points at it (a common writer's mistake).
  if (pixels_at == 0 || (indexed && pixels_at == h.palette_at))
    pixels_at = h.palette_at + (indexed ? colors * h.entry : 0);
  if (pixels_at > size)
    fail_image(CBIR_EIMAGE_TRUNCATED, name, "the BMP data ends before its pixels");

  const size_t stride = ((width * h.bits + 31) / 32) * 4;
  // The last row's padding may be missing: its pixels are all there.
  const size_t last_row = (width * h.bits + 7) / 8;
  if (!rle && (size - pixels_at < last_row || (size - pixels_at - last_row) / stride < height - 1))
    fail_image(CBIR_EIMAGE_TRUNCATED, name,
               "the BMP data ends early (" + std::to_string(size) + " bytes, too few for " +
                   std::to_string(width) + "x" + std::to_string(height) +
                   " pixels); the file is incomplete");

  Image img;
  img.width = static_cast<int>(width);
  img.height = static_cast<int>(height);
  img.rgb.resize(width * height * 3);
  std::vector<uint8_t> rle_indices;
  if (rle) rle_indices = unpack_rle(data, size, pixels_at, h);

  // Bit fields: the file's masks, or the fixed layouts of uncompressed 16/32-bit pixels.
  uint32_t masks[4] = {h.masks[0], h.masks[1], h.masks[2], h.masks[3]};
  if (!h.has_masks && h.bits == 16) {
    masks[0] = 0x7C00, masks[1] = 0x3E0, masks[2] = 0x1F;  // Pillow's BGR;15
  }
  const bool all_zero = h.has_masks && !(masks[0] | masks[1] | masks[2] | masks[3]);
  if (!h.has_masks || all_zero) {
    if (h.bits == 32 || h.bits == 24) masks[0] = 0xFF0000, masks[1] = 0xFF00, masks[2] = 0xFF;
    if (h.bits == 32 && (alpha32 || all_zero)) masks[3] = 0xFF000000;  // CUR / ICO: BGRA
  }
  const Channel ch[4] = {channel(masks[0]), channel(masks[1]), channel(masks[2]),
                         channel(masks[3])};
  const bool alpha = !indexed && h.bits == 32 && masks[3] != 0;
  // Pillow's modes: "P" (a colour palette) and "1" (black and white) are indexed, "L" (a gray
  // ramp) is not; 32-bit with an alpha mask is "RGBA".
  if (indexed)
    img.stored = pal.gray && colors != 2 ? Stored::rgb : Stored::indexed;
  else if (alpha)
    img.stored = Stored::alpha;
  if (alpha) img.alpha.resize(width * height);

  for (size_t y = 0; y < height; ++y) {
    const size_t file_row = h.top_down ? y : height - 1 - y;
    uint8_t* out = img.rgb.data() + y * width * 3;
    if (indexed) {
      const uint8_t* src =
          rle ? rle_indices.data() + file_row * width : data + pixels_at + file_row * stride;
      for (size_t x = 0; x < width; ++x, out += 3) {
        uint8_t i;
        if (rle || h.bits == 8)
          i = src[x];
        else if (h.bits == 4)
          i = (src[x / 2] >> (x % 2 ? 0 : 4)) & 15;
        else
          i = (src[x / 8] >> (7 - x % 8)) & 1;
        std::memcpy(out, pal.rgb[i].data(), 3);
      }
      continue;
    }
    const uint8_t* src = data + pixels_at + file_row * stride;
    const size_t bytes = h.bits / 8;
    for (size_t x = 0; x < width; ++x, out += 3, src += bytes) {
      const uint32_t v = bytes == 2   ? le16(src)
                         : bytes == 3 ? le16(src) | (uint32_t{src[2]} << 16)
                                      : le32(src);
      out[0] = ch[0].take(v);
      out[1] = ch[1].take(v);
      out[2] = ch[2].take(v);
      if (alpha) img.alpha[y * width + x] = ch[3].take(v);
    }
  }
  return img;
}

Image decode_bmp(const uint8_t* data, size_t size, const DecodeOptions& opts,
                 const std::string& name) {
  if (size < 18) fail_image(CBIR_EIMAGE_TRUNCATED, name, "the BMP data ends inside its header");
  // An offset of 0 reads the pixels right after the palette, as Pillow does.
  return decode_dib(data, size, 14, le32(data + 10), opts, name, false, false);
}

}  // namespace cbir::image::detail
