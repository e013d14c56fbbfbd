// Windows icons and cursors (ICO, CUR), as Pillow 9.4 opens them: an icon's largest image
// (then the deepest colour; a PNG or a bitmap with its AND mask as alpha), a cursor's entry
// that is larger in both sides than the ones before it (a bitmap; 32-bit ones carry alpha).
#include <algorithm>
#include <vector>

#include "common/error.hpp"
#include "image/decoders.hpp"

namespace cbir::image::detail {
namespace {

struct Entry {
  uint32_t width, height, depth, size, offset;
  size_t order;
};

// Pillow's choice among an icon's entries: the most pixels, then the deepest colour, then the
// last listed (its two stable sorts followed by a reverse).
bool better_icon(const Entry& a, const Entry& b) {
  if (a.width * a.height != b.width * b.height) return a.width * a.height > b.width * b.height;
  if (a.depth != b.depth) return a.depth > b.depth;
  return a.order > b.order;
}

// An icon bitmap's alpha from its AND mask (1 = transparent), rows of 1 bit padded to 32,
// bottom-up, after the colour rows.
void and_mask_alpha(const uint8_t* d, size_t n, size_t mask_at, Image& img) {
  const size_t w = img.width, h = img.height, stride = (w + 31) / 32 * 4;
  img.alpha.assign(w * h, 255);
  img.stored = Stored::alpha;
  if (mask_at > n || (n - mask_at) / stride < h) return;  // no mask: opaque, as Pillow shows it
  for (size_t y = 0; y < h; ++y) {
    const uint8_t* row = d + mask_at + (h - 1 - y) * stride;
    for (size_t x = 0; x < w; ++x)
      if ((row[x / 8] >> (7 - x % 8)) & 1) img.alpha[y * w + x] = 0;
  }
}

}  // namespace

Decoded decode_ico(const uint8_t* data, size_t size, const DecodeOptions& opts,
                   const std::string& name) {
  const bool cursor = le16(data + 2) == 2;
  const char* what = cursor ? "CUR" : "ICO";
  const size_t count = le16(data + 4);
  if (count == 0)
    fail_image(CBIR_EIMAGE_CORRUPT, name, std::string("the ") + what + " holds no image");
  if (size < 6 + 16 * count)
    fail_image(
        CBIR_EIMAGE_TRUNCATED, name,
        std::string("the ") + what + " data ends inside its directory; the file is incomplete");
  Entry best{};
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* e = data + 6 + 16 * i;
    Entry entry{e[0] ? e[0] : 256u, e[1] ? e[1] : 256u, 0, le32(e + 8), le32(e + 12), i};
    entry.depth = le16(e + 6);
    if (entry.depth == 0 && e[2]) {  // Pillow: ceil(log2(colour count)), else 256
      while ((1u << entry.depth) < e[2]) ++entry.depth;
    }
    if (entry.depth == 0) entry.depth = 256;
    if (i == 0)
      best = entry;
    else if (cursor ? (e[0] > (best.width & 255) && e[1] > (best.height & 255))
                    : better_icon(entry, best))
      best = entry;
  }
  if (best.offset >= size)
    fail_image(CBIR_EIMAGE_TRUNCATED, name,
               std::string("the ") + what + " data ends before its image; the file is incomplete");
  const uint8_t* at = data + best.offset;
  const size_t left = size - best.offset;

  Decoded out;
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (!cursor && left >= 8 && std::equal(kPng, kPng + 8, at)) {
    out.orientation = check_png_chunks(at, left, opts, name).orientation;
    out.image = decode_stb(at, left, opts, name, Format::png);
    return out;
  }
  out.image = decode_dib(data, size, best.offset, 0, opts, name, /*halve_height=*/true,
                         /*alpha32=*/true);
  const uint32_t header = le32(at);
  if (!cursor && out.image.stored != Stored::alpha && header >= 40) {  // Pillow: RGBA, always
    const uint32_t bits = le16(at + 14);
    const size_t colors = bits <= 8 ? (le32(at + 32) ? le32(at + 32) : 1u << bits) : 0;
    const size_t stride = (size_t{uint32_t(out.image.width)} * bits + 31) / 32 * 4;
    and_mask_alpha(data, size, best.offset + header + colors * 4 + stride * out.image.height,
                   out.image);
  }
  return out;
}

}  // namespace cbir::image::detail
