// EXIF orientation: reading tag 0x0112 from a TIFF stream, and turning the pixels upright
// the way Pillow's ImageOps.exif_transpose does (same mapping of orientation to transpose).
#include <cstring>
#include <string_view>
#include <type_traits>

#include "common/error.hpp"
#include "image/decoders.hpp"

namespace cbir::image::detail {

int exif_orientation(const uint8_t* tiff, size_t size) {
  if (tiff != nullptr && size >= 6 && std::memcmp(tiff, "Exif\0\0", 6) == 0) {
    tiff += 6;
    size -= 6;
  }
  if (tiff == nullptr || size < 8) return 0;
  const bool little = tiff[0] == 'I' && tiff[1] == 'I';
  if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return 0;
  auto u16 = [&](size_t at) -> uint32_t {
    return little ? tiff[at] | (tiff[at + 1] << 8) : (tiff[at] << 8) | tiff[at + 1];
  };
  auto u32 = [&](size_t at) -> uint32_t { return little ? u16(at) | (u16(at + 2) << 16)
                                                        : (u16(at) << 16) | u16(at + 2); };
  if (u16(2) != 42) return 0;
  const size_t ifd = u32(4);
  if (ifd > size - 2) return 0;
  const size_t entries = u16(ifd);
  for (size_t e = 0; e < entries; ++e) {
    const size_t at = ifd + 2 + 12 * e;
    if (at > size - 12) return 0;
    if (u16(at) != 0x0112) continue;
    const uint32_t type = u16(at + 2);
    const uint32_t value = type == 3 ? u16(at + 8) : type == 4 ? u32(at + 8) : 0;  // SHORT / LONG
    return value >= 1 && value <= 8 ? static_cast<int>(value) : 0;
  }
  return 0;
}

int xmp_orientation(const uint8_t* xmp, size_t size) {
  // Pillow's pattern: tiff:Orientation(="|>)([0-9]), its first match.
  const std::string_view text(reinterpret_cast<const char*>(xmp), xmp ? size : 0);
  const std::string_view key = "tiff:Orientation";
  for (size_t at = text.find(key); at != std::string_view::npos; at = text.find(key, at + 1)) {
    size_t v = at + key.size();
    if (text.substr(v, 2) == "=\"") v += 2;
    else if (text.substr(v, 1) == ">") v += 1;
    else continue;
    if (v < text.size() && text[v] >= '1' && text[v] <= '8') return text[v] - '0';
    if (v < text.size() && text[v] >= '0' && text[v] <= '9') return 0;
  }
  return 0;
}

Image apply_orientation(Image img, int orientation) {
  if (orientation < 2 || orientation > 8) return img;
  const ptrdiff_t w = img.width, h = img.height;
  // For each orientation: the source pixel of output (0, 0), and how the source position
  // moves when the output x or y grows by one (Pillow's Transpose methods).
  struct Walk {
    ptrdiff_t x0, y0, xdx, ydx, xdy, ydy;
  };
  Walk m{};
  switch (orientation) {
    case 2: m = {w - 1, 0, -1, 0, 0, 1}; break;       // FLIP_LEFT_RIGHT
    case 3: m = {w - 1, h - 1, -1, 0, 0, -1}; break;  // ROTATE_180
    case 4: m = {0, h - 1, 1, 0, 0, -1}; break;       // FLIP_TOP_BOTTOM
    case 5: m = {0, 0, 0, 1, 1, 0}; break;            // TRANSPOSE
    case 6: m = {0, h - 1, 0, -1, 1, 0}; break;       // ROTATE_270 (90 degrees clockwise)
    case 7: m = {w - 1, h - 1, 0, -1, -1, 0}; break;  // TRANSVERSE
    case 8: m = {w - 1, 0, 0, 1, -1, 0}; break;       // ROTATE_90 (counter-clockwise)
  }
  const bool swap = orientation >= 5;
  Image out;
  out.width = swap ? img.height : img.width;
  out.height = swap ? img.width : img.height;
  out.stored = img.stored;
  // One walk for the colour (3 bytes a pixel) and, where there is one, the alpha plane (1).
  // The channel count is a compile-time constant: the copy per pixel stays three moves.
  auto walk = [&](const Pixels& from, Pixels& to, auto channel_count) {
    constexpr ptrdiff_t channels = decltype(channel_count)::value;
    to.resize(from.size());
    const ptrdiff_t step_x = channels * (m.xdx + m.ydx * w);  // in bytes of the source
    const ptrdiff_t step_y = channels * (m.xdy + m.ydy * w);
    // Offsets, not pointers: the walk steps one row past the source after its last row.
    ptrdiff_t row = channels * (m.x0 + m.y0 * w);
    const uint8_t* in = from.data();
    uint8_t* dst = to.data();
    for (int y = 0; y < out.height; ++y, row += step_y) {
      ptrdiff_t src = row;
      for (int x = 0; x < out.width; ++x, src += step_x, dst += channels)
        for (ptrdiff_t c = 0; c < channels; ++c) dst[c] = in[src + c];
    }
  };
  walk(img.rgb, out.rgb, std::integral_constant<ptrdiff_t, 3>{});
  if (!img.alpha.empty()) walk(img.alpha, out.alpha, std::integral_constant<ptrdiff_t, 1>{});
  return out;
}

}  // namespace cbir::image::detail
