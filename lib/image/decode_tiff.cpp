// TIFF through libtiff, from memory: the first page, any layout libtiff's RGBA interface reads
// (strips or tiles; none, LZW, deflate, JPEG, PackBits, CCITT; 1 to 16 bits; gray, palette, RGB,
// CMYK, YCbCr). Pixels as stored, then the Orientation tag applied as Pillow's exif_transpose does.
#include <tiffio.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "common/error.hpp"
#include "image/decoders.hpp"

namespace cbir::image::detail {
namespace {

struct Memory {
  const uint8_t* data;
  toff_t size;
  toff_t pos = 0;
  std::string error;  // libtiff's first error message, for ours
};

tmsize_t read_cb(thandle_t h, void* buf, tmsize_t n) {
  auto* m = static_cast<Memory*>(h);
  if (n < 0) return -1;
  const toff_t left = m->pos < m->size ? m->size - m->pos : 0;
  const toff_t got = std::min<toff_t>(left, static_cast<toff_t>(n));
  std::memcpy(buf, m->data + m->pos, got);
  m->pos += got;
  return static_cast<tmsize_t>(got);
}
tmsize_t write_cb(thandle_t, void*, tmsize_t) { return -1; }
toff_t seek_cb(thandle_t h, toff_t off, int whence) {
  auto* m = static_cast<Memory*>(h);
  const toff_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->size : 0;
  m->pos = base + off;
  return m->pos;
}
int close_cb(thandle_t) { return 0; }
toff_t size_cb(thandle_t h) { return static_cast<Memory*>(h)->size; }
int on_error(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  auto* m = static_cast<Memory*>(user);
  if (m->error.empty()) {
    char text[512];
    std::vsnprintf(text, sizeof text, fmt, ap);
    m->error = std::string(module ? module : "libtiff") + ": " + text;
  }
  return 1;  // handled: nothing printed
}
int on_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

}  // namespace

namespace {

std::string ascii_tag(TIFF* tif, uint32_t tag) {
  const char* s = nullptr;
  if (TIFFGetField(tif, tag, &s) != 1 || s == nullptr) return "";
  return clean_ascii(s);
}

// A GPS coordinate: three rationals that libtiff hands over as floats or doubles (its field
// definitions changed between versions, so ask it which).
std::optional<double> gps_coordinate(TIFF* tif, uint32_t tag, uint32_t ref_tag, char negative,
                                     double limit) {
  const TIFFField* f = TIFFFieldWithTag(tif, tag);
  const void* raw = nullptr;
  if (f == nullptr || TIFFGetField(tif, tag, &raw) != 1 || raw == nullptr) return std::nullopt;
  double v[3];
  const int size = TIFFFieldSetGetSize(f);
  for (int i = 0; i < 3; ++i)
    v[i] = size == 8 ? static_cast<const double*>(raw)[i] : size == 4 ? static_cast<const float*>(raw)[i] : NAN;
  const double deg = v[0] + v[1] / 60 + v[2] / 3600;
  if (!std::isfinite(deg) || deg < 0 || deg > limit) return std::nullopt;
  const std::string ref = ascii_tag(tif, ref_tag);
  return !ref.empty() && ref[0] == negative ? -deg : deg;
}

// The photo facts of a TIFF from its own directories (IFD0, the EXIF and GPS IFDs) through
// libtiff, which reads them wherever they lie (libexif reads only the first 64 KiB, and a
// TIFF's directories usually follow its pixels).
void read_facts(TIFF* tif, PhotoMeta& meta) {
  meta.make = ascii_tag(tif, TIFFTAG_MAKE);
  meta.model = ascii_tag(tif, TIFFTAG_MODEL);
  toff_t exif_at = 0, gps_at = 0;
  const bool has_gps = TIFFGetField(tif, TIFFTAG_GPSIFD, &gps_at) == 1 && gps_at != 0;
  if (TIFFGetField(tif, TIFFTAG_EXIFIFD, &exif_at) == 1 && exif_at != 0 &&
      TIFFReadEXIFDirectory(tif, exif_at)) {
    meta.taken = exif_time(ascii_tag(tif, EXIFTAG_DATETIMEORIGINAL));
    uint32_t offset_tag = EXIFTAG_OFFSETTIMEORIGINAL;
    if (!meta.taken) {
      meta.taken = exif_time(ascii_tag(tif, EXIFTAG_DATETIMEDIGITIZED));
      offset_tag = EXIFTAG_OFFSETTIMEDIGITIZED;
    }
    if (meta.taken) meta.taken_offset = exif_offset(ascii_tag(tif, offset_tag));
  }
  if (has_gps && TIFFReadGPSDirectory(tif, gps_at)) {
    const auto lat = gps_coordinate(tif, GPSTAG_LATITUDE, GPSTAG_LATITUDEREF, 'S', 90);
    const auto lon = gps_coordinate(tif, GPSTAG_LONGITUDE, GPSTAG_LONGITUDEREF, 'W', 180);
    if (lat && lon) {
      meta.lat = lat;
      meta.lon = lon;
    }
  }
}

}  // namespace

Decoded decode_tiff(const uint8_t* data, size_t size, const DecodeOptions& opts,
                    const std::string& name) {
  Memory mem{data, static_cast<toff_t>(size), 0, {}};
  std::unique_ptr<TIFFOpenOptions, void (*)(TIFFOpenOptions*)> options(TIFFOpenOptionsAlloc(),
                                                                       TIFFOpenOptionsFree);
  if (!options) fail(CBIR_ENOMEM, "cannot start the TIFF decoder");
  TIFFOpenOptionsSetErrorHandlerExtR(options.get(), on_error, &mem);
  TIFFOpenOptionsSetWarningHandlerExtR(options.get(), on_warning, &mem);
  // No single allocation beyond what the pixel limit allows (strips, tiles, tag arrays).
  TIFFOpenOptionsSetMaxSingleMemAlloc(
      options.get(), static_cast<tmsize_t>(std::min<uint64_t>(opts.max_pixels * 8 + (1u << 20),
                                                              uint64_t{1} << 40)));
  // "m": no memory mapping (our callbacks read).
  std::unique_ptr<TIFF, void (*)(TIFF*)> tif(
      TIFFClientOpenExt(name.c_str(), "rm", &mem, read_cb, write_cb, seek_cb, close_cb, size_cb,
                        nullptr, nullptr, options.get()),
      TIFFClose);
  auto damaged = [&](const std::string& what) {
    const bool cut = mem.error.find("end of file") != std::string::npos ||
                     mem.error.find("Read error") != std::string::npos ||
                     mem.error.find("past end") != std::string::npos;
    fail_image(cut ? CBIR_EIMAGE_TRUNCATED : CBIR_EIMAGE_CORRUPT, name,
               what + (mem.error.empty() ? "" : " (" + mem.error + ")") +
                   (cut ? "; the file is incomplete" : "; the file is damaged"));
  };
  if (!tif) damaged("invalid TIFF header");

  uint32_t width = 0, height = 0;
  TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &height);
  check_dimensions(width, height, opts, name);
  // Unassociated alpha: Pillow's convert("RGB") drops it and keeps the stored colour, where
  // libtiff's RGBA interface would premultiply by it. Marking every extra sample "unspecified"
  // in the in-memory directory (the file is not touched) makes libtiff skip it likewise.
  // Associated (premultiplied) alpha is read, and undone below as Pillow's "RGBa" does.
  uint16_t extras = 0;
  uint16_t* kinds = nullptr;
  bool premultiplied = false;
  if (TIFFGetField(tif.get(), TIFFTAG_EXTRASAMPLES, &extras, &kinds) && extras > 0 &&
      kinds[0] == EXTRASAMPLE_ASSOCALPHA) {
    premultiplied = true;
  } else if (extras > 0) {
    std::vector<uint16_t> unspecified(extras, EXTRASAMPLE_UNSPECIFIED);
    TIFFSetField(tif.get(), TIFFTAG_EXTRASAMPLES, extras, unspecified.data());
  }
  char why[1024] = "";
  if (!TIFFRGBAImageOK(tif.get(), why))
    fail_image(CBIR_EIMAGE_FORMAT, name, std::string("this kind of TIFF is not supported (") +
                                             why + "); convert it to PNG");
  TIFFRGBAImage img;
  if (!TIFFRGBAImageBegin(&img, tif.get(), /*stop_on_error=*/1, why)) damaged(why);
  // 16-bit colour samples: libtiff rounds v * 255 / 65535; Pillow (RGB;16 and RGBA;16) keeps
  // the high byte, as cbir does for 16-bit PNG and TIFF gray.
  if (img.Bitdepth16To8 != nullptr)
    for (uint32_t v = 0; v < 65536; ++v) img.Bitdepth16To8[v] = static_cast<uint8_t>(v >> 8);
  // The pixels as stored: the Orientation tag is applied below, once, as Pillow does (libtiff
  // would flip for some orientations and not transpose for others).
  img.req_orientation = ORIENTATION_TOPLEFT;
  img.orientation = ORIENTATION_TOPLEFT;
  Pixels abgr(size_t{4} * width * height);  // uint32 ABGR per pixel, in host order
  const int ok = TIFFRGBAImageGet(&img, reinterpret_cast<uint32_t*>(abgr.data()), width, height);
  TIFFRGBAImageEnd(&img);
  if (!ok) damaged("the TIFF image data cannot be read");

  Decoded out;
  out.image.width = static_cast<int>(width);
  out.image.height = static_cast<int>(height);
  out.image.rgb.resize(size_t{3} * width * height);
  const uint32_t* in = reinterpret_cast<const uint32_t*>(abgr.data());
  uint8_t* dst = out.image.rgb.data();
  if (premultiplied) {
    out.image.stored = Stored::alpha;  // Pillow's "RGBA"
    out.image.alpha.resize(size_t{width} * height);
  }
  for (size_t i = 0, n = size_t{width} * height; i < n; ++i, dst += 3) {
    const uint32_t c[3] = {TIFFGetR(in[i]), TIFFGetG(in[i]), TIFFGetB(in[i])};
    const uint32_t a = TIFFGetA(in[i]);
    for (int k = 0; k < 3; ++k) {  // Pillow's unpackRGBa: 0 where transparent, else c * 255 / a
      const uint32_t v = !premultiplied || a == 255 ? c[k] : a == 0 ? 0 : c[k] * 255 / a;
      dst[k] = static_cast<uint8_t>(v > 255 ? 255 : v);
    }
    if (premultiplied) out.image.alpha[i] = static_cast<uint8_t>(a);
  }
  // Palette and bilevel TIFFs are Pillow's "P" and "1": indexed. (Alpha is not kept: libtiff's
  // RGBA interface gives it premultiplied only, so a TIFF with alpha resizes as RGB.)
  uint16_t photometric = 0, bits = 1, samples = 1;
  TIFFGetField(tif.get(), TIFFTAG_PHOTOMETRIC, &photometric);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLESPERPIXEL, &samples);
  const bool bilevel = bits == 1 && samples == 1 &&
                       (photometric == PHOTOMETRIC_MINISWHITE || photometric == PHOTOMETRIC_MINISBLACK);
  if (photometric == PHOTOMETRIC_PALETTE || bilevel) out.image.stored = Stored::indexed;
  uint16_t orientation = 1;
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_ORIENTATION, &orientation);
  out.orientation = orientation >= 1 && orientation <= 8 ? orientation : 1;
  read_facts(tif.get(), out.facts);  // last: it leaves the main directory
  return out;
}

}  // namespace cbir::image::detail
