// A PNG's container, checked before stb_image sees it (stb skips CRCs and reads zeros past
// the end): IHDR first, every chunk's CRC, no chunk running past the end, an IEND, and enough
// compressed data for the pixels IHDR announces (deflate packs at most 1032 bytes into one,
// so a small file claiming a huge image is refused before stb allocates for it). Also finds
// the orientation in the places Pillow reads it: eXIf, ImageMagick's raw EXIF text, XMP.
#include <array>
#include <cmath>
#include <cstring>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "image/decoders.hpp"

namespace cbir::image::detail {
namespace {

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::string chunk_name(const uint8_t* type) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const bool printable = type[i] >= 0x20 && type[i] < 0x7F;
    s += printable ? static_cast<char>(type[i]) : '?';
  }
  return "'" + s + "'";
}

}  // namespace

// CRC-32 as PNG (and zlib) define it: reflected polynomial 0xEDB88320.
uint32_t crc32(const uint8_t* data, size_t size) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) c = table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

namespace {

// A text chunk's value when its keyword is `key` (tEXt, or iTXt stored uncompressed; compressed
// text is not inflated here: no zlib bound for metadata). Empty otherwise.
std::string_view text_value(const uint8_t* type, const uint8_t* body, size_t length,
                            std::string_view key) {
  const std::string_view all(reinterpret_cast<const char*>(body), length);
  if (all.size() <= key.size() || all.compare(0, key.size(), key) != 0 || all[key.size()] != '\0')
    return {};
  std::string_view rest = all.substr(key.size() + 1);
  if (std::memcmp(type, "tEXt", 4) == 0) return rest;
  if (std::memcmp(type, "iTXt", 4) != 0 || rest.size() < 2 || rest[0] != 0) return {};
  rest.remove_prefix(2);  // compression flag (0) and method
  for (int skip = 0; skip < 2; ++skip) {  // language tag, translated keyword
    const size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) return {};
    rest.remove_prefix(nul + 1);
  }
  return rest;
}

// ImageMagick's "Raw profile type exif": "\nexif\n    <length>\n" then hex lines; as Pillow
// reads it (lines after the third, whitespace ignored).
std::vector<uint8_t> raw_profile_bytes(std::string_view text) {
  for (int line = 0; line < 3; ++line) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return {};
    text.remove_prefix(nl + 1);
  }
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : text) {
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (v < 0) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
      return {};
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  return out;
}

}  // namespace

PngChunks check_png_chunks(const uint8_t* data, size_t size, const DecodeOptions& opts,
                           const std::string& name) {
  PngChunks out;
  std::string_view exif, raw_exif, xmp;  // where Pillow looks for the orientation
  double pixel_bytes = 0;  // of the image as IHDR describes it, filter bytes not counted
  uint64_t idat_bytes = 0;
  size_t pos = 8;  // after the signature
  for (bool first = true;; first = false) {
    if (size - pos < 12)
      fail_image(CBIR_EIMAGE_TRUNCATED, name,
                 "the PNG data ends early (after " + std::to_string(size) +
                     " bytes, before its IEND chunk); the file is incomplete");
    const uint32_t length = be32(data + pos);
    const uint8_t* type = data + pos + 4;
    if (length > 0x7FFFFFFFu)
      fail_image(CBIR_EIMAGE_CORRUPT, name,
                 "PNG chunk at byte " + std::to_string(pos) + " has an impossible length");
    if (size - pos - 12 < length)
      fail_image(CBIR_EIMAGE_TRUNCATED, name,
                 "the PNG data ends inside chunk " + chunk_name(type) + " (it needs " +
                     std::to_string(pos + 12 + length) + " bytes, the data has " +
                     std::to_string(size) + "); the file is incomplete");
    if (crc32(type, length + 4) != be32(type + 4 + length))
      fail_image(CBIR_EIMAGE_CORRUPT, name,
                 "checksum mismatch in PNG chunk " + chunk_name(type) + " at byte " +
                     std::to_string(pos) + "; the file is damaged");
    const uint8_t* body = type + 4;
    if (first) {
      if (std::memcmp(type, "IHDR", 4) != 0 || length != 13)
        fail_image(CBIR_EIMAGE_CORRUPT, name, "the PNG does not start with a valid IHDR chunk");
      const uint32_t width = be32(body), height = be32(body + 4);
      check_dimensions(width, height, opts, name);
      const int depth = body[8], color = body[9];
      const int channels = color == 2 ? 3 : color == 4 ? 2 : color == 6 ? 4 : 1;
      pixel_bytes = std::ceil(double(width) * channels * depth / 8) * height;
    } else if (std::memcmp(type, "IDAT", 4) == 0) {
      idat_bytes += length;
    } else if (std::memcmp(type, "eXIf", 4) == 0) {  // the last one wins, as in Pillow
      exif = std::string_view(reinterpret_cast<const char*>(body), length);
    } else if (std::memcmp(type, "tEXt", 4) == 0 || std::memcmp(type, "iTXt", 4) == 0) {
      if (auto v = text_value(type, body, length, "Raw profile type exif"); !v.empty()) raw_exif = v;
      if (auto v = text_value(type, body, length, "XML:com.adobe.xmp"); !v.empty()) xmp = v;
    } else if (std::memcmp(type, "IEND", 4) == 0) {
      if (double(idat_bytes) * 1032 + 65536 < pixel_bytes)
        fail_image(CBIR_EIMAGE_CORRUPT, name,
                   "the PNG's compressed pixel data (" + std::to_string(idat_bytes) +
                       " bytes) is far too small for the size its header claims");
      if (!exif.empty())
        out.exif.assign(exif.begin(), exif.end());
      else if (!raw_exif.empty())
        out.exif = raw_profile_bytes(raw_exif);
      int o = exif_orientation(out.exif.data(), out.exif.size());
      if (o == 0 && !xmp.empty())
        o = xmp_orientation(reinterpret_cast<const uint8_t*>(xmp.data()), xmp.size());
      out.orientation = o ? o : 1;
      return out;
    }
    pos += 12 + size_t{length};
  }
}

}  // namespace cbir::image::detail
