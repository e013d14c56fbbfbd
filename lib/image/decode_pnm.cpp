// Netpbm (PBM, PGM, PPM), binary and plain text, 1 to 16 bits, as Pillow 9.4's PpmImagePlugin
// reads them: samples scaled to 8 bits as Python's round(v / maxval * 255), PBM's 1 black. One
// choice departs from Pillow: a gray file deeper than 8 bits (Pillow's mode "I") is scaled like the
// rest, where Pillow's convert("RGB") clips it to 255 (a white image).
#include <cctype>
#include <cmath>

#include "common/error.hpp"
#include "image/decoders.hpp"

namespace cbir::image::detail {
namespace {

struct Cursor {
  const uint8_t* d;
  size_t n;
  size_t pos = 2;  // after the magic number
  const std::string& name;

  [[noreturn]] void ends_early(const char* where) const {
    fail_image(CBIR_EIMAGE_TRUNCATED, name,
               std::string("the PNM data ends inside its ") + where + "; the file is incomplete");
  }
  void skip_space_and_comments() {
    while (pos < n && (std::isspace(d[pos]) || d[pos] == '#')) {
      if (d[pos] == '#')
        while (pos < n && d[pos] != '\n' && d[pos] != '\r') ++pos;
      else
        ++pos;
    }
  }
  // A decimal number of at most 9 digits (the header's and plain-text samples').
  uint32_t number(const char* where) {
    skip_space_and_comments();
    if (pos >= n) ends_early(where);
    if (!std::isdigit(d[pos]))
      fail_image(CBIR_EIMAGE_CORRUPT, name,
                 std::string("the PNM ") + where +
                     " holds something other than a number; the file is damaged");
    uint32_t v = 0;
    for (size_t digits = 0; pos < n && std::isdigit(d[pos]); ++pos, ++digits) {
      if (digits == 9)
        fail_image(CBIR_EIMAGE_CORRUPT, name,
                   std::string("the PNM ") + where +
                       " holds a number of more than 9 digits; the file is damaged");
      v = v * 10 + (d[pos] - '0');
    }
    return v;
  }
};

}  // namespace

Image decode_pnm(const uint8_t* data, size_t size, const DecodeOptions& opts,
                 const std::string& name) {
  const char kind = static_cast<char>(data[1]);  // '1'..'6', checked by the caller
  const bool bitmap = kind == '1' || kind == '4', colour = kind == '3' || kind == '6';
  const bool plain = kind <= '3';
  Cursor c{data, size, 2, name};
  const uint32_t width = c.number("header"), height = c.number("header");
  const uint32_t maxval = bitmap ? 1 : c.number("header");
  if (maxval == 0 || maxval > 65535)
    fail_image(CBIR_EIMAGE_CORRUPT, name,
               "the PNM maximum value is " + std::to_string(maxval) +
                   " (1 to 65535 allowed); the file is damaged");
  check_dimensions(width, height, opts, name);
  const size_t channels = colour ? 3 : 1;
  const size_t samples = size_t{width} * height * channels;
  if (!plain) {
    ++c.pos;  // the one whitespace byte before binary samples
    const size_t bytes =
        kind == '4' ? size_t{(width + 7) / 8} * height : samples * (maxval > 255 ? 2 : 1);
    if (c.pos > size || size - c.pos < bytes)
      fail_image(CBIR_EIMAGE_TRUNCATED, name,
                 "the PNM data ends early (" + std::to_string(size) + " bytes, too few for " +
                     std::to_string(width) + "x" + std::to_string(height) +
                     " pixels); the file is incomplete");
  } else if ((size - c.pos) / (bitmap ? 1 : 2) + 1 < samples) {
    // A plain sample takes a digit and (but in PBM) a separator: a header claiming far more
    // pixels than the file holds is refused before anything is allocated for them.
    fail_image(CBIR_EIMAGE_TRUNCATED, name, "the PNM data ends early; the file is incomplete");
  }

  // Pillow's round(v / maxval * 255): Python's round, halves to even, of that double.
  auto scaled = [maxval](uint32_t v) {
    return static_cast<uint8_t>(std::nearbyint(static_cast<double>(v) / maxval * 255.0));
  };
  uint8_t scale[256];  // 8-bit samples: a lookup
  for (uint32_t v = 0; v < 256; ++v) scale[v] = scaled(std::min(v, maxval));
  auto to8 = [&](uint32_t v) -> uint8_t {
    return maxval == 255 ? uint8_t(v) : maxval < 256 ? scale[v] : scaled(v);
  };

  Image img;
  img.width = static_cast<int>(width);
  img.height = static_cast<int>(height);
  img.stored = bitmap ? Stored::indexed : Stored::rgb;  // PBM is Pillow's "1"
  img.rgb.resize(size_t{width} * height * 3);
  uint8_t* out = img.rgb.data();
  const uint8_t* bin = data + c.pos;
  for (size_t y = 0; y < height; ++y) {
    for (size_t x = 0; x < width; ++x, out += 3) {
      uint32_t v[3];
      for (size_t k = 0; k < channels; ++k) {
        if (kind == '4') {
          v[k] = (bin[y * ((width + 7) / 8) + x / 8] >> (7 - x % 8)) & 1;
        } else if (kind == '1') {  // digits may touch: one character per sample
          c.skip_space_and_comments();
          if (c.pos >= size) c.ends_early("pixels");
          if (data[c.pos] != '0' && data[c.pos] != '1')
            fail_image(CBIR_EIMAGE_CORRUPT, name,
                       "the PBM pixels hold something other than 0 and 1; the file is damaged");
          v[k] = data[c.pos++] - '0';
        } else if (plain) {
          v[k] = c.number("pixels");
        } else if (maxval > 255) {
          v[k] = (uint32_t{bin[0]} << 8) | bin[1];
          bin += 2;
        } else {
          v[k] = *bin++;
        }
        if (v[k] > maxval)
          fail_image(CBIR_EIMAGE_CORRUPT, name,
                     "a PNM sample is " + std::to_string(v[k]) + ", over the file's maximum " +
                         std::to_string(maxval) + "; the file is damaged");
      }
      if (bitmap) {
        out[0] = out[1] = out[2] = v[0] ? 0 : 255;
      } else if (colour) {
        out[0] = to8(v[0]), out[1] = to8(v[1]), out[2] = to8(v[2]);
      } else {
        out[0] = out[1] = out[2] = to8(v[0]);
      }
    }
  }
  return img;
}

}  // namespace cbir::image::detail
