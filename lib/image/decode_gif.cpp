// GIF, first frame, as Pillow 9.4 shows it (GifImagePlugin): the canvas is the logical screen
// (grown to hold the frame), filled with the frame's transparent index (index 0 without one),
// the frame's pixels LZW-decoded into their rectangle; colours from the frame's own palette,
// else the global one. A palette that is the gray ramp, or none at all, makes Pillow's "L":
// the index is the gray level. Indices past a short palette read the gray ramp, as Pillow's
// palette does. A full LZW table keeps decoding without adding codes (stb_image refused such
// files as "too many codes").
#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "common/error.hpp"
#include "image/decoders.hpp"

namespace cbir::image::detail {
namespace {

// The gray ramp (entry i is i, i, i) overwritten by the file's entries; no table: the ramp.
struct Palette {
  std::array<uint8_t, 768> rgb;
  bool present = false;  // and not the gray ramp: Pillow's "P"
  Palette() {
    for (size_t i = 0; i < 256; ++i) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = uint8_t(i);
  }
};

// A colour table of 3 << bits bytes at d[pos]: a palette, or absent where it is the gray ramp.
Palette read_palette(const uint8_t* d, size_t entries) {
  Palette p;
  for (size_t i = 0; i < entries; ++i) {
    const uint8_t* c = d + 3 * i;
    if (c[0] != i || c[1] != i || c[2] != i) p.present = true;
    std::memcpy(&p.rgb[3 * i], c, 3);
  }
  return p;
}

// The LZW code stream of a frame, read least significant bit first across its sub-blocks.
class Codes {
 public:
  Codes(const uint8_t* d, size_t n, size_t pos, const std::string& name)
      : d_(d), n_(n), pos_(pos), name_(name) {}
  // The next `bits`-bit code, or -1 where the sub-blocks end (a block of size 0).
  int next(int bits) {
    while (have_ < bits) {
      if (left_ == 0) {
        if (ended_) return -1;
        if (pos_ >= n_) truncated();
        left_ = d_[pos_++];
        if (left_ == 0) {
          ended_ = true;
          return -1;
        }
      }
      if (pos_ >= n_) truncated();
      acc_ |= uint32_t{d_[pos_++]} << have_;
      have_ += 8;
      --left_;
    }
    const int code = static_cast<int>(acc_ & ((1u << bits) - 1));
    acc_ >>= bits;
    have_ -= bits;
    return code;
  }

 private:
  [[noreturn]] void truncated() const {
    fail_image(CBIR_EIMAGE_TRUNCATED, name_,
               "the GIF data ends inside its first image; the file is incomplete");
  }
  const uint8_t* d_;
  size_t n_, pos_;
  const std::string& name_;
  uint32_t acc_ = 0;
  int have_ = 0;
  size_t left_ = 0;  // bytes left in the current sub-block
  bool ended_ = false;
};

// LZW-decodes up to `count` indices into out (in stream order). Stops early, keeping what it
// has, at the end code or the end of the sub-blocks, as Pillow does.
void lzw(Codes& codes, int min_bits, uint8_t* out, size_t count, const std::string& name) {
  const int clear = 1 << min_bits, end = clear + 1;
  std::vector<uint16_t> prefix(4096);
  std::vector<uint8_t> suffix(4096), stack(4097);
  int bits = min_bits + 1, next = end + 1, prev = -1;
  uint8_t first = 0;
  size_t done = 0;
  while (done < count) {
    const int code = codes.next(bits);
    if (code < 0 || code == end) return;
    if (code == clear) {
      bits = min_bits + 1;
      next = end + 1;
      prev = -1;
      continue;
    }
    if (prev < 0) {  // the first code after a clear is a single index
      if (code >= clear)
        fail_image(CBIR_EIMAGE_CORRUPT, name,
                   "the GIF image data is damaged (a code before its table entry)");
      out[done++] = first = uint8_t(code);
      prev = code;
      continue;
    }
    if (code > next || (code == next && next == 4096))
      fail_image(CBIR_EIMAGE_CORRUPT, name, "the GIF image data is damaged (an unknown code)");
    size_t depth = 0;
    int c = code;
    if (code == next) {  // the string of prev plus its own first index
      stack[depth++] = first;
      c = prev;
    }
    while (c >= clear) {
      stack[depth++] = suffix[c];
      c = prefix[c];
    }
    stack[depth++] = uint8_t(c);
    first = uint8_t(c);
    while (depth > 0 && done < count) out[done++] = stack[--depth];
    if (next < 4096) {  // a full table keeps its codes until the next clear
      prefix[next] = uint16_t(prev);
      suffix[next] = first;
      ++next;
      if (next == (1 << bits) && bits < 12) ++bits;
    }
    prev = code;
  }
}

}  // namespace

Image decode_gif(const uint8_t* d, size_t n, const DecodeOptions& opts, const std::string& name) {
  auto truncated = [&](const char* where) {
    fail_image(CBIR_EIMAGE_TRUNCATED, name,
               std::string("the GIF data ends ") + where + "; the file is incomplete");
  };
  if (n < 13) truncated("inside its header");
  uint64_t width = le16(d + 6), height = le16(d + 8);
  size_t pos = 13;
  Palette global;
  if (d[10] & 0x80) {
    const size_t entries = size_t{2} << (d[10] & 7);
    if (pos + 3 * entries > n) truncated("inside its colour table");
    global = read_palette(d + pos, entries);
    pos += 3 * entries;
  }
  int transparent = -1;
  for (;;) {  // to the first image, past extensions (and, as Pillow, stray bytes)
    if (pos >= n) truncated("before its first image");
    const uint8_t tag = d[pos++];
    if (tag == 0x3B) fail_image(CBIR_EIMAGE_CORRUPT, name, "the GIF holds no image");
    if (tag == 0x2C) break;
    if (tag != 0x21) continue;
    if (pos >= n) truncated("inside an extension");
    const uint8_t label = d[pos++];
    if (label == 0xF9 && pos + 5 <= n && d[pos] == 4)  // graphic control: transparency
      transparent = (d[pos + 1] & 1) ? d[pos + 4] : -1;
    while (pos < n && d[pos] != 0) pos += d[pos] + 1;  // its sub-blocks
    ++pos;
  }
  if (pos + 9 > n) truncated("inside its image descriptor");
  const size_t x0 = le16(d + pos), y0 = le16(d + pos + 2), fw = le16(d + pos + 4),
               fh = le16(d + pos + 6);
  const uint8_t flags = d[pos + 8];
  pos += 9;
  Palette palette = global;
  if (flags & 0x80) {
    const size_t entries = size_t{2} << (flags & 7);
    if (pos + 3 * entries > n) truncated("inside its colour table");
    palette = read_palette(d + pos, entries);
    pos += 3 * entries;
  }
  // Pillow grows the canvas to hold a frame that reaches past it.
  width = std::max<uint64_t>(width, x0 + fw);
  height = std::max<uint64_t>(height, y0 + fh);
  check_dimensions(width, height, opts, name);
  if (pos >= n) truncated("before its image data");
  const int min_bits = d[pos++];
  if (min_bits < 1 || min_bits > 11)
    fail_image(CBIR_EIMAGE_CORRUPT, name,
               "the GIF image data is damaged (LZW code size " + std::to_string(min_bits) + ")");

  // Pixels the frame does not cover, or that its data ends before, keep the canvas's index.
  const uint8_t fill = uint8_t(transparent >= 0 ? transparent : 0);
  std::vector<uint8_t> indices(width * height, fill);
  std::vector<uint8_t> frame(fw * fh, fill);
  Codes codes(d, n, pos, name);
  lzw(codes, min_bits, frame.data(), frame.size(), name);
  // Rows in stream order: interlaced frames store every 8th row from 0, every 8th from 4,
  // every 4th from 2, then every 2nd from 1.
  std::vector<size_t> order;
  order.reserve(fh);
  if (flags & 0x40) {
    for (const auto& [start, step] : {std::pair<size_t, size_t>{0, 8}, {4, 8}, {2, 4}, {1, 2}})
      for (size_t y = start; y < fh; y += step) order.push_back(y);
  } else {
    for (size_t y = 0; y < fh; ++y) order.push_back(y);
  }
  // A frame of zero width (or height) covers nothing: the canvas keeps its fill.
  for (size_t i = 0; fw > 0 && i < fh; ++i)
    std::memcpy(indices.data() + (y0 + order[i]) * width + x0, frame.data() + i * fw, fw);

  Image img;
  img.width = static_cast<int>(width);
  img.height = static_cast<int>(height);
  img.stored = palette.present ? Stored::indexed : Stored::rgb;  // "P", else "L"
  img.rgb.resize(width * height * 3);
  uint8_t* out = img.rgb.data();
  for (const uint8_t i : indices) {
    std::memcpy(out, &palette.rgb[3 * i], 3);  // for "L" the palette is the ramp: gray = index
    out += 3;
  }
  return img;
}

}  // namespace cbir::image::detail
