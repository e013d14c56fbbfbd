// Entry points of decoding: reading files, recognising the format by its bytes (never by the
// file name), dispatching to the format decoders, EXIF orientation, raw pixels.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "common/error.hpp"
#include "image/decoders.hpp"

namespace cbir::image {
namespace detail {

void fail_image(int code, const std::string& name, const std::string& reason) {
  fail(code, name + ": " + reason);
}

void check_dimensions(uint64_t width, uint64_t height, const DecodeOptions& opts,
                      const std::string& name) {
  const std::string dims = std::to_string(width) + "x" + std::to_string(height);
  if (width == 0 || height == 0)
    fail_image(CBIR_EIMAGE_DIMENSIONS, name, "the header says the image is " + dims +
                                                 " pixels; an image needs at least one");
  // Both fit in 32 bits for every format cbir reads, so the product cannot overflow.
  if (width * height > opts.max_pixels)
    fail_image(CBIR_EIMAGE_TOO_LARGE, name,
               "the header says " + dims + " = " + std::to_string(width * height) +
                   " pixels, over the limit of " + std::to_string(opts.max_pixels) +
                   " (a possible decompression bomb; raise max_pixels to decode it anyway)");
}

const char* format_key(Format format) {
  switch (format) {
    case Format::jpeg: return "jpeg";
    case Format::png: return "png";
    case Format::gif: return "gif";
    case Format::bmp: return "bmp";
    case Format::tga: return "tga";
    case Format::pnm: return "pnm";
    case Format::ico: return "ico";
    case Format::webp: return "webp";
    case Format::tiff: return "tiff";
    case Format::heif: return "heic";
    case Format::avif: return "avif";
    case Format::jxl: return "jxl";
  }
  return "";
}

const char* format_name(Format format) {
  switch (format) {
    case Format::jpeg: return "JPEG";
    case Format::png: return "PNG";
    case Format::gif: return "GIF";
    case Format::bmp: return "BMP";
    case Format::tga: return "TGA";
    case Format::pnm: return "PNM";
    case Format::ico: return "ICO/CUR";
    case Format::webp: return "WebP";
    case Format::tiff: return "TIFF";
    case Format::heif: return "HEIF/HEIC";
    case Format::avif: return "AVIF";
    case Format::jxl: return "JPEG XL";
  }
  return "image";
}

#ifdef CBIR_WITH_HEIF
bool heif_decodes(Format format);  // decode_heif.cpp: libheif has the codec's plugin
#endif

std::string compiled_formats() {
  std::string s = "jpeg png gif bmp tga pnm ico";
#ifdef CBIR_WITH_WEBP
  s += " webp";
#endif
#ifdef CBIR_WITH_TIFF
  s += " tiff";
#endif
#ifdef CBIR_WITH_HEIF
  if (heif_decodes(Format::heif)) s += " heic";
  if (heif_decodes(Format::avif)) s += " avif";
#endif
#ifdef CBIR_WITH_JXL
  s += " jxl";
#endif
  return s;
}

void rgba_to_rgb(const uint8_t* rgba, size_t stride, Image& img, bool keep_alpha) {
  img.rgb.resize(size_t{3} * img.width * img.height);
  if (keep_alpha) {
    img.stored = Stored::alpha;
    img.alpha.resize(size_t{1} * img.width * img.height);
  }
  uint8_t* out = img.rgb.data();
  uint8_t* alpha = img.alpha.data();
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* in = rgba + stride * y;
    for (int x = 0; x < img.width; ++x, in += 4, out += 3) {
      out[0] = in[0];
      out[1] = in[1];
      out[2] = in[2];
      if (keep_alpha) *alpha++ = in[3];
    }
  }
}

}  // namespace detail

namespace {

using detail::fail_image;
using detail::Format;
using detail::le16;
using detail::le32;

// What this build decodes, for messages.
std::string supported() { return "this cbir decodes " + detail::compiled_formats(); }

// The library a format needs when this build lacks it, and the Debian package that has it.
const char* package_for(Format f) {
  switch (f) {
    case Format::webp: return "libwebp-dev";
    case Format::tiff: return "libtiff-dev";
    case Format::heif:
    case Format::avif: return "libheif-dev";
    case Format::jxl: return "libjxl-dev";
    default: return "";
  }
}

// ISO base media files (HEIF, AVIF) by their brands: AVIF when an AV1 brand is listed, HEIF for
// the HEVC and generic image brands. 0 when neither.
int isobmff_kind(const uint8_t* d, size_t n) {
  if (n < 16 || std::memcmp(d + 4, "ftyp", 4) != 0) return 0;
  const size_t box = (size_t{d[0]} << 24) | (d[1] << 16) | (d[2] << 8) | d[3];
  const size_t end = box >= 16 && box <= n ? box : n < 64 ? n : 64;
  bool heif = false;
  for (size_t at = 8; at + 4 <= end; at += 4) {
    if (at == 12) continue;  // the minor version, not a brand
    const std::string_view b(reinterpret_cast<const char*>(d + at), 4);
    if (b == "avif" || b == "avis") return 2;
    if (b == "heic" || b == "heix" || b == "heim" || b == "heis" || b == "hevc" || b == "hevx" ||
        b == "mif1" || b == "msf1")
      heif = true;
  }
  return heif ? 1 : 0;
}

bool starts_with(const uint8_t* d, size_t n, std::string_view magic) {
  return n >= magic.size() && std::memcmp(d, magic.data(), magic.size()) == 0;
}

// TGA has no signature: accept only a header whose every field is one TGA allows, so that
// random bytes are not mistaken for it.
bool looks_like_tga(const uint8_t* d, size_t n) {
  if (n < 18) return false;
  const int cmap = d[1], type = d[2], entry = d[7], bpp = d[16];
  const bool mapped = type == 1 || type == 9;
  if (cmap > 1 || (mapped != (cmap == 1))) return false;
  if (type != 1 && type != 2 && type != 3 && type != 9 && type != 10 && type != 11) return false;
  if (cmap == 1 && (le16(d + 5) == 0 || (entry != 15 && entry != 16 && entry != 24 && entry != 32)))
    return false;
  if (mapped && bpp != 8 && bpp != 16) return false;
  if (!mapped && bpp != 8 && bpp != 15 && bpp != 16 && bpp != 24 && bpp != 32) return false;
  return le16(d + 12) > 0 && le16(d + 14) > 0 && (d[17] & 0xC0) == 0;
}

std::string lowercase_prefix(const uint8_t* d, size_t n, size_t max) {
  std::string s(reinterpret_cast<const char*>(d), n < max ? n : max);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Printable UTF-8 (or ASCII) in the first 512 bytes: a text file, not an image.
bool looks_like_text(const uint8_t* d, size_t n) {
  const size_t end = n < 512 ? n : 512;
  for (size_t i = 0; i < end;) {
    const uint8_t c = d[i];
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') return false;
      ++i;
      continue;
    }
    size_t len = 0;  // of the UTF-8 sequence this byte starts
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) len = 3;
    else if (c >= 0xF0 && c <= 0xF4) len = 4;
    else return false;
    for (size_t k = 1; k < len; ++k)
      if (i + k < end && (d[i + k] & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

// What the data is, by its first bytes; throws CBIR_EIMAGE_FORMAT saying what it looks like.
Format sniff(const uint8_t* d, size_t n, const std::string& name) {
  if (starts_with(d, n, "\xFF\xD8\xFF")) return Format::jpeg;
  if (starts_with(d, n, "\x89PNG\r\n\x1A\n")) return Format::png;
  if (starts_with(d, n, "GIF87a") || starts_with(d, n, "GIF89a")) return Format::gif;
  if (starts_with(d, n, "BM") && n >= 18) {
    // A known info header size, or the reserved bytes at 0 (a BMP with a damaged header).
    const uint32_t header = le32(d + 14);
    if (header == 12 || header == 16 || header == 40 || header == 52 || header == 56 ||
        header == 64 || header == 108 || header == 124 || le32(d + 6) == 0)
      return Format::bmp;
  }
  if (n >= 3 && d[0] == 'P' && std::isspace(d[2])) {
    if (d[1] >= '1' && d[1] <= '6') return Format::pnm;
    if (d[1] == '7')
      fail_image(CBIR_EIMAGE_FORMAT, name, "PAM (P7) images are not supported; convert it to PNG");
  }
  // ICO (type 1) and CUR (type 2): reserved 0, at least one entry whose reserved byte is 0.
  if (n >= 22 && d[0] == 0 && d[1] == 0 && (d[2] == 1 || d[2] == 2) && d[3] == 0 &&
      le16(d + 4) > 0 && d[9] == 0)
    return Format::ico;
  if (looks_like_tga(d, n)) return Format::tga;

  if (starts_with(d, n, "RIFF") && n >= 12 && std::memcmp(d + 8, "WEBP", 4) == 0) return Format::webp;
  if (starts_with(d, n, std::string_view("II*\0", 4)) || starts_with(d, n, std::string_view("MM\0*", 4)) ||
      starts_with(d, n, std::string_view("II+\0", 4)) || starts_with(d, n, std::string_view("MM\0+", 4)))
    return Format::tiff;
  if (const int kind = isobmff_kind(d, n)) return kind == 2 ? Format::avif : Format::heif;
  if (starts_with(d, n, "\xFF\x0A") || starts_with(d, n, std::string_view("\0\0\0\x0CJXL \r\n\x87\n", 12)))
    return Format::jxl;

  auto unsupported = [&](const char* what) {
    fail_image(CBIR_EIMAGE_FORMAT, name,
               std::string(what) + " images are not supported; convert it to JPEG or PNG (" +
                   supported() + ")");
  };
  if (starts_with(d, n, "8BPS")) unsupported("Photoshop (PSD)");
  if (starts_with(d, n, std::string_view("\0\0\0\x0CjP  ", 8))) unsupported("JPEG 2000");

  const std::string head = lowercase_prefix(d, n, 1024);
  if (head.find("<svg") != std::string::npos)
    fail_image(CBIR_EIMAGE_FORMAT, name,
               "this is an SVG drawing (vector graphics), not a raster image; render it to "
               "PNG first");
  if (head.find("<html") != std::string::npos || head.find("<!doctype html") != std::string::npos)
    fail_image(CBIR_EIMAGE_FORMAT, name,
               "this is an HTML page, not an image (an error page saved under an image's "
               "name?)");
  if (looks_like_text(d, n))
    fail_image(CBIR_EIMAGE_FORMAT, name, "this is text, not an image; " + supported());
  char first[40];
  std::snprintf(first, sizeof first, "%02x %02x %02x %02x", d[0], n > 1 ? d[1] : 0,
                n > 2 ? d[2] : 0, n > 3 ? d[3] : 0);
  fail_image(CBIR_EIMAGE_FORMAT, name,
             std::string("not a recognised image format (it starts with bytes ") + first +
                 "); " + supported());
}

void check_options(const DecodeOptions& opts) {
  require(opts.max_pixels > 0, "max_pixels must be > 0");
  require(opts.fast_min_side >= 0, "fast_min_side must be >= 0 (0 = exact decoding)");
}

// Largest file read for an image: 9 bytes per allowed pixel covers every format stored raw
// (16-bit RGBA is 8 per pixel) plus row and container overhead.
uint64_t max_file_bytes(const DecodeOptions& opts) {
  const uint64_t cap = UINT64_MAX / 16;
  return opts.max_pixels > cap ? UINT64_MAX : opts.max_pixels * 9 + (1u << 20);
}

// Into recycled pixel memory too: a large file's bytes are as costly to fault in as pixels.
Pixels read_file(const std::string& path, const DecodeOptions& opts) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    fail_image(err == ENOENT || err == ENOTDIR ? CBIR_ENOTFOUND : CBIR_EIO, path,
               std::string("cannot open: ") + std::strerror(err));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail_image(CBIR_EIO, path, std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail_image(CBIR_EIO, path, "not a regular file");
  if (st.st_size == 0) fail_image(CBIR_EIMAGE_EMPTY, path, "the file is empty (0 bytes)");
  if (static_cast<uint64_t>(st.st_size) > max_file_bytes(opts))
    fail_image(CBIR_EIMAGE_TOO_LARGE, path,
               "the file is " + std::to_string(st.st_size) +
                   " bytes, more than any image within the pixel limit needs");
  Pixels bytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail_image(CBIR_EIO, path, std::string("read failed: ") + std::strerror(errno));
    if (got == 0) break;  // the file shrank while we read it
    done += static_cast<size_t>(got);
  }
  bytes.resize(done);
  return bytes;
}

// The formats whose library the build may lack: decoded, or refused naming the package.
detail::Decoded decode_optional(const uint8_t* data, size_t size, const DecodeOptions& opts,
                                const std::string& name, Format format) {
  switch (format) {
#ifdef CBIR_WITH_WEBP
    case Format::webp: return detail::decode_webp(data, size, opts, name);
#endif
#ifdef CBIR_WITH_TIFF
    case Format::tiff: return detail::decode_tiff(data, size, opts, name);
#endif
#ifdef CBIR_WITH_HEIF
    case Format::heif:
    case Format::avif: return detail::decode_heif(data, size, opts, name, format);
#endif
#ifdef CBIR_WITH_JXL
    case Format::jxl: return detail::decode_jxl(data, size, opts, name);
#endif
    default: break;
  }
  fail_image(CBIR_EIMAGE_FORMAT, name,
             std::string("this is a ") + detail::format_name(format) +
                 " image, and this cbir was built without its decoder; install " +
                 package_for(format) + " and rebuild cbir (" + supported() + ")");
  return {};  // not reached: fail_image throws
}

}  // namespace

std::string decodable_formats() { return detail::compiled_formats(); }

Image decode_memory(const uint8_t* data, size_t size, const DecodeOptions& opts,
                    const std::string& name, PhotoMeta* meta) {
  check_options(opts);
  if (size == 0) fail_image(CBIR_EIMAGE_EMPTY, name, "the image data is empty (0 bytes)");
  require(data != nullptr, "image data must not be NULL");

  detail::Decoded out;
  const Format format = sniff(data, size, name);
  if (format == Format::jpeg) {
    out = detail::decode_jpeg(data, size, opts, name);
  } else if (format == Format::png) {
    const detail::PngChunks png = detail::check_png_chunks(data, size, opts, name);
    out.image = detail::decode_stb(data, size, opts, name, format);
    out.orientation = png.orientation;
    out.exif = std::move(png.exif);
  } else if (format == Format::gif) {
    out.image = detail::decode_gif(data, size, opts, name);
  } else if (format == Format::bmp) {
    out.image = detail::decode_bmp(data, size, opts, name);
  } else if (format == Format::pnm) {
    out.image = detail::decode_pnm(data, size, opts, name);
  } else if (format == Format::ico) {
    out = detail::decode_ico(data, size, opts, name);
  } else if (format == Format::webp || format == Format::tiff || format == Format::heif ||
             format == Format::avif || format == Format::jxl) {
    out = decode_optional(data, size, opts, name, format);
  } else {
    out.image = detail::decode_stb(data, size, opts, name, format);
    // A TGA whose rows run right to left (descriptor bit 4; stb ignores it): mirrored, as
    // Pillow does. Orientation 2 is that mirror.
    if (format == Format::tga && (data[17] & 0x10))
      out.image = detail::apply_orientation(std::move(out.image), 2);
  }
  if (meta) {
    *meta = format == Format::tiff ? std::move(out.facts) : PhotoMeta{};  // TIFF: read by its decoder
    meta->format = detail::format_key(format);
    if (format != Format::tiff && !out.exif.empty())
      detail::read_exif_facts(out.exif.data(), out.exif.size(), *meta);
  }
  if (opts.exif_orientation && out.orientation != 1)
    return detail::apply_orientation(std::move(out.image), out.orientation);
  return std::move(out.image);
}

Image decode_file(const std::string& path, const DecodeOptions& opts) {
  check_options(opts);
  const Pixels bytes = read_file(path, opts);
  return decode_memory(bytes.data(), bytes.size(), opts, path);
}

Image from_pixels(const uint8_t* pixels, int width, int height, size_t stride,
                  PixelFormat format) {
  require(pixels != nullptr, "pixels must not be NULL");
  require(width > 0 && height > 0, "width and height must be > 0");
  const size_t channels = format == PixelFormat::rgb8 ? 3 : format == PixelFormat::rgba8 ? 4 : 1;
  const size_t row = static_cast<size_t>(width) * channels;
  if (stride == 0) stride = row;
  require(stride >= row, "stride must be 0 (packed) or at least width * bytes per pixel");

  Image img;
  img.width = width;
  img.height = height;
  if (format == PixelFormat::rgba8) {
    detail::rgba_to_rgb(pixels, stride, img, /*keep_alpha=*/true);
    return img;
  }
  img.rgb.resize(static_cast<size_t>(width) * height * 3);
  uint8_t* out = img.rgb.data();
  for (int y = 0; y < height; ++y) {
    const uint8_t* in = pixels + static_cast<size_t>(y) * stride;
    if (format == PixelFormat::rgb8) {
      std::memcpy(out, in, row);
      out += row;
      continue;
    }
    for (int x = 0; x < width; ++x, out += 3) {
      const uint8_t* p = in + x * channels;
      out[0] = p[0];
      out[1] = format == PixelFormat::gray8 ? p[0] : p[1];
      out[2] = format == PixelFormat::gray8 ? p[0] : p[2];
    }
  }
  return img;
}

}  // namespace cbir::image
