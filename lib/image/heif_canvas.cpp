// The canvas size a HEIF/AVIF file's derived primary image ("grid" of tiles, "iovl" overlay)
// declares in its own item data. libheif 1.15 allocates that canvas (three full-size planes)
// trusting the item data, not the image's "ispe" size that decode_heif checks: a 580-byte file
// whose ispe said 30464x24 made it allocate 3 x 486 MB (fuzz_heif). Reading the few boxes
// that say where that data is (ISO/IEC 14496-12 and 23008-12) lets decode_heif check the
// canvas too. Everything is bounds-checked; anything unexpected returns nothing, and libheif
// then judges the file as before.
#include <optional>
#include <utility>

#include "image/decoders.hpp"

namespace cbir::image::detail {
namespace {

// A bounded big-endian reader over [p, end); reading past the end sets bad and yields 0.
struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  bool bad = false;

  uint64_t take(int bytes) {
    if (bytes < 0 || end - p < bytes) {
      bad = true;
      p = end;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | *p++;
    return v;
  }
  size_t left() const { return static_cast<size_t>(end - p); }
};

struct Box {
  uint32_t type = 0;
  const uint8_t* body = nullptr;
  size_t size = 0;  // of the body
};

constexpr uint32_t fourcc(const char (&s)[5]) {
  return (uint32_t(uint8_t(s[0])) << 24) | (uint32_t(uint8_t(s[1])) << 16) |
         (uint32_t(uint8_t(s[2])) << 8) | uint32_t(uint8_t(s[3]));
}

// The next box of r (32-bit, 64-bit or to-the-end size); false at the end or on a bad size.
bool next_box(Reader& r, Box& box) {
  if (r.left() < 8) return false;
  const uint8_t* start = r.p;
  uint64_t size = r.take(4);
  box.type = static_cast<uint32_t>(r.take(4));
  if (size == 1) size = r.take(8);
  else if (size == 0) size = static_cast<uint64_t>(r.end - start);
  const uint64_t header = static_cast<uint64_t>(r.p - start);
  if (r.bad || size < header || size > static_cast<uint64_t>(r.end - start)) return false;
  box.body = r.p;
  box.size = static_cast<size_t>(size - header);
  r.p = start + size;
  return true;
}

std::optional<Box> find_box(const uint8_t* data, size_t size, uint32_t type) {
  Reader r{data, data + size};
  Box box;
  while (next_box(r, box))
    if (box.type == type) return box;
  return std::nullopt;
}

struct Extent {
  uint64_t offset = 0, length = 0;
};

// The item's first extent (where a grid's few bytes of data are) and its construction method
// (0: file offset, 1: idat offset).
std::optional<std::pair<int, Extent>> item_location(const Box& iloc, uint32_t item) {
  Reader r{iloc.body, iloc.body + iloc.size};
  const int version = static_cast<int>(r.take(1));
  r.take(3);
  if (version > 2) return std::nullopt;
  const int sizes = static_cast<int>(r.take(1));
  const int offset_size = sizes >> 4, length_size = sizes & 15;
  const int more = static_cast<int>(r.take(1));
  const int base_offset_size = more >> 4, index_size = version >= 1 ? (more & 15) : 0;
  const uint64_t count = r.take(version < 2 ? 2 : 4);
  for (uint64_t i = 0; i < count && !r.bad; ++i) {
    const uint64_t id = r.take(version < 2 ? 2 : 4);
    const int method = version >= 1 ? static_cast<int>(r.take(2) & 15) : 0;
    r.take(2);  // data_reference_index
    const uint64_t base = r.take(base_offset_size);
    const uint64_t extents = r.take(2);
    Extent first;
    for (uint64_t e = 0; e < extents && !r.bad; ++e) {
      r.take(index_size);
      const uint64_t offset = r.take(offset_size), length = r.take(length_size);
      if (e == 0) first = {base + offset, length};
    }
    if (r.bad) return std::nullopt;
    if (id == item) {
      if (extents == 0 || method > 1 || first.offset < base) return std::nullopt;
      return std::make_pair(method, first);
    }
  }
  return std::nullopt;
}

// The item type ("grid", "iovl", "hvc1", ...) that iinf gives the item, or 0.
uint32_t item_type(const Box& iinf, uint32_t item) {
  Reader r{iinf.body, iinf.body + iinf.size};
  const int version = static_cast<int>(r.take(1));
  r.take(3);
  r.take(version == 0 ? 2 : 4);  // entry count; the boxes themselves say where they end
  Box infe;
  while (!r.bad && next_box(r, infe)) {
    if (infe.type != fourcc("infe")) continue;
    Reader e{infe.body, infe.body + infe.size};
    const int v = static_cast<int>(e.take(1));
    e.take(3);
    if (v < 2) continue;  // versions 0 and 1 carry no item type
    const uint64_t id = e.take(v == 2 ? 2 : 4);
    e.take(2);  // protection index
    const uint64_t type = e.take(4);
    if (!e.bad && id == item) return static_cast<uint32_t>(type);
  }
  return 0;
}

}  // namespace

std::optional<std::pair<uint64_t, uint64_t>> heif_derived_canvas(const uint8_t* data, size_t size) {
  const auto meta = find_box(data, size, fourcc("meta"));
  if (!meta || meta->size < 4) return std::nullopt;
  const uint8_t* boxes = meta->body + 4;  // after the full box's version and flags
  const size_t boxes_size = meta->size - 4;
  const auto pitm = find_box(boxes, boxes_size, fourcc("pitm"));
  const auto iinf = find_box(boxes, boxes_size, fourcc("iinf"));
  const auto iloc = find_box(boxes, boxes_size, fourcc("iloc"));
  if (!pitm || !iinf || !iloc) return std::nullopt;
  Reader p{pitm->body, pitm->body + pitm->size};
  const int pitm_version = static_cast<int>(p.take(1));
  p.take(3);
  const uint64_t primary = p.take(pitm_version == 0 ? 2 : 4);
  if (p.bad) return std::nullopt;
  const uint32_t type = item_type(*iinf, static_cast<uint32_t>(primary));
  if (type != fourcc("grid") && type != fourcc("iovl")) return std::nullopt;

  const auto where = item_location(*iloc, static_cast<uint32_t>(primary));
  if (!where) return std::nullopt;
  const uint8_t* base = data;
  size_t limit = size;
  if (where->first == 1) {
    const auto idat = find_box(boxes, boxes_size, fourcc("idat"));
    if (!idat) return std::nullopt;
    base = idat->body;
    limit = idat->size;
  }
  const Extent& e = where->second;
  if (e.offset > limit) return std::nullopt;
  const size_t available = limit - static_cast<size_t>(e.offset);
  // A zero length means "to the end of the data".
  const size_t length = e.length == 0 || e.length > available ? available : static_cast<size_t>(e.length);
  Reader r{base + e.offset, base + e.offset + length};
  r.take(1);  // version
  const bool wide = (r.take(1) & 1) != 0;
  if (type == fourcc("grid")) r.take(2);  // rows and columns, minus one
  else r.take(4 * 2);                     // the canvas fill value of each of four channels
  const uint64_t width = r.take(wide ? 4 : 2), height = r.take(wide ? 4 : 2);
  if (r.bad) return std::nullopt;
  return std::make_pair(width, height);
}

}  // namespace cbir::image::detail
