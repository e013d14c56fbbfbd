// Small encoders for image tests: PNG (stored deflate blocks), BMP, TGA, PPM, EXIF blocks, and
// JPEG with an EXIF segment. Enough to build every variant a test needs without binary files.
#pragma once

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "image/decoders.hpp"

namespace fixtures {

using Bytes = std::vector<uint8_t>;

// An image's pixels as plain bytes, to compare with expected ones.
inline Bytes px(const cbir::image::Image& img) { return Bytes(img.rgb.begin(), img.rgb.end()); }

inline Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// width * height * channels bytes, all different from their neighbours.
inline Bytes pattern(int width, int height, int channels) {
  Bytes out(static_cast<size_t>(width) * height * channels);
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>((i * 37 + i / 7) & 0xFF);
  return out;
}

inline void put_be32(Bytes& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}
inline void put_le16(Bytes& out, uint32_t v) {
  out.push_back(v & 0xFF);
  out.push_back((v >> 8) & 0xFF);
}
inline void put_le32(Bytes& out, uint32_t v) {
  put_le16(out, v & 0xFFFF);
  put_le16(out, v >> 16);
}

inline void png_chunk(Bytes& out, const char* type, const Bytes& body) {
  put_be32(out, static_cast<uint32_t>(body.size()));
  Bytes typed(type, type + 4);
  typed.insert(typed.end(), body.begin(), body.end());
  out.insert(out.end(), typed.begin(), typed.end());
  put_be32(out, cbir::image::detail::crc32(typed.data(), typed.size()));
}

struct Chunk {
  std::string type;
  Bytes body;
};

// Adam7's passes: first column and row, column and row steps.
struct Pass {
  uint32_t x0, y0, dx, dy;
};
inline const Pass kAdam7[7] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                               {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};

// A PNG of packed rows (`row_bytes` each, no filter byte) in uncompressed deflate blocks.
// `before` chunks go between IHDR and IDAT, `after` between IDAT and IEND. `interlaced` (8-bit
// samples only) stores the pixels in Adam7 order.
inline Bytes png(uint32_t width, uint32_t height, int color_type, int bit_depth, const Bytes& rows,
                 const std::vector<Chunk>& before = {}, const std::vector<Chunk>& after = {},
                 bool interlaced = false) {
  Bytes out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  Bytes ihdr;
  put_be32(ihdr, width);
  put_be32(ihdr, height);
  ihdr.insert(ihdr.end(), {static_cast<uint8_t>(bit_depth), static_cast<uint8_t>(color_type), 0, 0,
                           static_cast<uint8_t>(interlaced)});
  png_chunk(out, "IHDR", ihdr);
  for (const Chunk& c : before) png_chunk(out, c.type.c_str(), c.body);

  Bytes raw;  // filter type 0 before each row
  const size_t row_bytes = height ? rows.size() / height : 0;
  if (!interlaced) {
    for (uint32_t y = 0; y < height; ++y) {
      raw.push_back(0);
      raw.insert(raw.end(), rows.begin() + y * row_bytes, rows.begin() + (y + 1) * row_bytes);
    }
  } else {
    const size_t pixel = width ? row_bytes / width : 0;
    for (const Pass& p : kAdam7) {
      if (p.x0 >= width || p.y0 >= height) continue;  // an empty pass has no rows at all
      for (uint32_t y = p.y0; y < height; y += p.dy) {
        raw.push_back(0);
        for (uint32_t x = p.x0; x < width; x += p.dx)
          raw.insert(raw.end(), rows.begin() + y * row_bytes + x * pixel,
                     rows.begin() + y * row_bytes + (x + 1) * pixel);
      }
    }
  }
  Bytes z = {0x78, 0x01};
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    z.push_back(pos + n == raw.size() ? 1 : 0);
    put_le16(z, static_cast<uint32_t>(n));
    put_le16(z, static_cast<uint32_t>(~n & 0xFFFF));
    z.insert(z.end(), raw.begin() + pos, raw.begin() + pos + n);
    pos += n;
  } while (pos < raw.size());
  uint32_t a = 1, b = 0;
  for (uint8_t v : raw) {
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  }
  put_be32(z, (b << 16) | a);
  png_chunk(out, "IDAT", z);
  for (const Chunk& c : after) png_chunk(out, c.type.c_str(), c.body);
  png_chunk(out, "IEND", {});
  return out;
}

// 24-bit BMP, rows stored bottom-up and padded to 4 bytes, BGR.
inline Bytes bmp24(int width, int height, const Bytes& rgb) {
  const uint32_t stride = (width * 3 + 3) / 4 * 4;
  Bytes out = {'B', 'M'};
  put_le32(out, 54 + stride * height);
  put_le32(out, 0);
  put_le32(out, 54);
  put_le32(out, 40);
  put_le32(out, width);
  put_le32(out, height);
  put_le16(out, 1);
  put_le16(out, 24);
  for (int i = 0; i < 6; ++i) put_le32(out, 0);
  for (int y = height - 1; y >= 0; --y) {
    for (int x = 0; x < width; ++x) {
      const uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
      out.insert(out.end(), {p[2], p[1], p[0]});
    }
    out.resize(out.size() + stride - width * 3, 0);
  }
  return out;
}

// 8-bit BMP with a 16-colour palette, RLE8: each row a run of its first index, a literal of
// five, a delta of one pixel, then end of line; end of bitmap after the last row.
inline Bytes bmp_rle8(int width, int height) {
  Bytes palette, data;
  for (int i = 0; i < 16; ++i) palette.insert(palette.end(), {uint8_t(i * 16), uint8_t(255 - i * 9), uint8_t(i * 5), 0});
  for (int y = 0; y < height; ++y) {
    data.insert(data.end(), {uint8_t(width / 2), uint8_t(y % 16), 0, 5, 1, 2, 3, 4, 5, 0, 0, 2, 1, 0, 0, 0});
  }
  data.insert(data.end(), {0, 1});
  Bytes out = {'B', 'M'};
  put_le32(out, uint32_t(54 + palette.size() + data.size()));
  put_le32(out, 0);
  put_le32(out, uint32_t(54 + palette.size()));
  put_le32(out, 40);
  put_le32(out, width);
  put_le32(out, height);
  put_le16(out, 1);
  put_le16(out, 8);
  put_le32(out, 1);  // RLE8
  put_le32(out, uint32_t(data.size()));
  put_le32(out, 0);
  put_le32(out, 0);
  put_le32(out, 16);
  put_le32(out, 0);
  out.insert(out.end(), palette.begin(), palette.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// An ICO holding one 24-bit bitmap entry (colour rows, then a 1-bit AND mask) of `bmp24`'s
// pixels: bmp24's info header and rows with the height doubled, as icons store it.
inline Bytes ico24(int width, int height, const Bytes& rgb) {
  const Bytes bmp = bmp24(width, height, rgb);
  Bytes dib(bmp.begin() + 14, bmp.end());
  dib[8] = uint8_t(height * 2), dib[9] = uint8_t((height * 2) >> 8), dib[10] = dib[11] = 0;
  dib.resize(dib.size() + size_t((width + 31) / 32 * 4) * height, 0x55);  // the AND mask
  Bytes out = {0, 0, 1, 0, 1, 0, uint8_t(width), uint8_t(height), 0, 0, 1, 0, 24, 0};
  put_le32(out, uint32_t(dib.size()));
  put_le32(out, 22);
  out.insert(out.end(), dib.begin(), dib.end());
  return out;
}

// Plain-text PPM (P3) of 8-bit RGB.
inline Bytes ppm_plain(int width, int height, const Bytes& rgb) {
  std::string s = "P3\n# plain\n" + std::to_string(width) + " " + std::to_string(height) + "\n255\n";
  for (size_t i = 0; i < rgb.size(); ++i) s += std::to_string(rgb[i]) + (i % 12 == 11 ? "\n" : " ");
  return Bytes(s.begin(), s.end());
}

// Uncompressed true-colour TGA, 24 bits BGR, top row first.
inline Bytes tga24(int width, int height, const Bytes& rgb) {
  Bytes out = {0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  put_le16(out, width);
  put_le16(out, height);
  out.push_back(24);
  out.push_back(0x20);  // origin top-left
  for (size_t i = 0; i < rgb.size(); i += 3) out.insert(out.end(), {rgb[i + 2], rgb[i + 1], rgb[i]});
  return out;
}

inline Bytes ppm(int width, int height, const Bytes& rgb) {
  const std::string header = "P6\n" + std::to_string(width) + " " + std::to_string(height) + "\n255\n";
  Bytes out(header.begin(), header.end());
  out.insert(out.end(), rgb.begin(), rgb.end());
  return out;
}

// A GIF89a of palette indices (at most 4 colours) with a global palette and, when
// transparent >= 0, a graphic control extension naming that index transparent. Its LZW data
// restarts (clear code) every two pixels, so every code stays 3 bits wide.
inline Bytes gif(int width, int height, const Bytes& palette, const Bytes& indices, int transparent) {
  Bytes out = {'G', 'I', 'F', '8', '9', 'a'};
  put_le16(out, width);
  put_le16(out, height);
  out.insert(out.end(), {0x81, 0, 0});  // global table of 4 entries
  Bytes table = palette;
  table.resize(12, 0);
  out.insert(out.end(), table.begin(), table.end());
  if (transparent >= 0)
    out.insert(out.end(), {0x21, 0xF9, 4, 1, 0, 0, static_cast<uint8_t>(transparent), 0});
  out.push_back(0x2C);
  put_le16(out, 0);
  put_le16(out, 0);
  put_le16(out, width);
  put_le16(out, height);
  out.push_back(0);
  out.push_back(2);  // LZW minimum code size: clear = 4, end = 5
  std::vector<int> codes;
  for (size_t i = 0; i < indices.size(); ++i) {
    if (i % 2 == 0) codes.push_back(4);
    codes.push_back(indices[i]);
  }
  codes.push_back(5);
  Bytes packed;
  uint32_t bits = 0, nbits = 0;
  for (int c : codes) {
    bits |= static_cast<uint32_t>(c) << nbits;
    for (nbits += 3; nbits >= 8; nbits -= 8, bits >>= 8) packed.push_back(bits & 0xFF);
  }
  if (nbits) packed.push_back(bits & 0xFF);
  for (size_t i = 0; i < packed.size(); i += 255) {
    const size_t n = std::min<size_t>(255, packed.size() - i);
    out.push_back(static_cast<uint8_t>(n));
    out.insert(out.end(), packed.begin() + i, packed.begin() + i + n);
  }
  out.insert(out.end(), {0, 0x3B});
  return out;
}

// A TIFF stream (what EXIF blocks hold) with one IFD entry: Orientation = `orientation`.
inline Bytes exif_tiff(int orientation, bool little_endian = true) {
  Bytes t = little_endian ? Bytes{'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0}
                          : Bytes{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1};
  const uint8_t v = static_cast<uint8_t>(orientation);
  if (little_endian) {
    t.insert(t.end(), {v, 0, 0, 0});
  } else {
    t.insert(t.end(), {0, v, 0, 0});
  }
  t.insert(t.end(), {0, 0, 0, 0});  // no next IFD
  return t;
}

// `jpeg` with an APP1 "Exif" segment holding `tiff` right after SOI.
inline Bytes jpeg_with_exif(const Bytes& jpeg, const Bytes& tiff) {
  Bytes seg = {0xFF, 0xE1};
  const size_t length = 2 + 6 + tiff.size();
  seg.push_back(static_cast<uint8_t>(length >> 8));
  seg.push_back(static_cast<uint8_t>(length & 0xFF));
  seg.insert(seg.end(), {'E', 'x', 'i', 'f', 0, 0});
  seg.insert(seg.end(), tiff.begin(), tiff.end());
  Bytes out(jpeg.begin(), jpeg.begin() + 2);
  out.insert(out.end(), seg.begin(), seg.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

}  // namespace fixtures
