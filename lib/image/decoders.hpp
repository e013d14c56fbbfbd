// What the format decoders of lib/image share (internal; not part of the module's contract).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/photo_meta.hpp"

#include "image/image.hpp"

namespace cbir::image::detail {

// Little-endian 16- and 32-bit numbers, as BMP, GIF, ICO and TGA store them.
inline uint32_t le16(const uint8_t* p) { return p[0] | (p[1] << 8); }
inline uint32_t le32(const uint8_t* p) { return le16(p) | (le16(p + 2) << 16); }

// Throws cbir::Error(code, "<name>: <reason>").
[[noreturn]] void fail_image(int code, const std::string& name, const std::string& reason);

// The header's dimensions against the pixel limit, before anything is allocated for them.
// Zero -> CBIR_EIMAGE_DIMENSIONS; width * height > opts.max_pixels -> CBIR_EIMAGE_TOO_LARGE.
void check_dimensions(uint64_t width, uint64_t height, const DecodeOptions& opts,
                      const std::string& name);

// A decoded image and the EXIF orientation its file asks for (1 = as stored).
// exif: a copy of the file's EXIF block (a TIFF stream, perhaps behind "Exif\0\0"), for the
// photo's metadata (exif_facts.cpp); empty when it has none. A TIFF file is its own EXIF.
// facts: what a decoder read itself (TIFF), used instead of exif when it holds a format.
struct Decoded {
  Image image;
  int orientation = 1;
  std::vector<uint8_t> exif;
  PhotoMeta facts;
};

enum class Format { jpeg, png, gif, bmp, tga, pnm, ico, webp, tiff, heif, avif, jxl };
const char* format_name(Format format);
// The short lower-case name the catalog stores: "jpeg", "png", ..., "heic", "avif", "jxl".
const char* format_key(Format format);

// Capture time, camera and GPS position from an EXIF block (libexif) into meta; what is
// missing, malformed or out of range is left unset. Never throws for bad data.
void read_exif_facts(const uint8_t* exif, size_t size, PhotoMeta& meta);
// EXIF's pieces: "YYYY:MM:DD HH:MM:SS" as seconds (read as UTC), "+HH:MM" as minutes, an ASCII
// value cut at its NUL and trailing blanks ("" unless printable ASCII of at most 256 bytes).
std::optional<int64_t> exif_time(const std::string& s);
std::optional<int32_t> exif_offset(const std::string& s);
std::string clean_ascii(std::string s);

// The formats this build decodes, lower case, space-separated ("jpeg png ... webp tiff").
std::string compiled_formats();

// Interleaved RGBA rows into img.rgb, alpha dropped (Pillow's convert("RGB") ignores it); with
// keep_alpha, into img.alpha too (Stored::alpha), for a file Pillow opens as RGBA.
void rgba_to_rgb(const uint8_t* rgba, size_t stride, Image& img, bool keep_alpha = false);

// JPEG through TurboJPEG (Pillow-exact: same libjpeg-turbo, same default settings).
Decoded decode_jpeg(const uint8_t* data, size_t size, const DecodeOptions& opts,
                  const std::string& name);

// The decoders of the optional formats, compiled where the build found their library
// (CBIR_WITH_WEBP, _TIFF, _HEIF, _JXL). Each checks the header's dimensions before decoding.
// WebP (first frame, through libwebp's animation decoder as Pillow does), its EXIF orientation.
Decoded decode_webp(const uint8_t* data, size_t size, const DecodeOptions& opts,
                    const std::string& name);
// TIFF (first page, every layout libtiff reads), its Orientation tag.
Decoded decode_tiff(const uint8_t* data, size_t size, const DecodeOptions& opts,
                    const std::string& name);
// HEIC/HEIF and AVIF (primary image) through libheif, its rotation and mirroring applied, so
// orientation is 1: the EXIF orientation of a HEIF file restates them and is not applied again.
Decoded decode_heif(const uint8_t* data, size_t size, const DecodeOptions& opts,
                    const std::string& name, Format format);
// The canvas (width, height) a HEIF/AVIF's primary image declares in its item data when it is
// derived from others (a grid of tiles, an overlay), which libheif allocates as declared;
// nothing for a coded image or where the boxes cannot be read (heif_canvas.cpp).
std::optional<std::pair<uint64_t, uint64_t>> heif_derived_canvas(const uint8_t* data, size_t size);
// JPEG XL (first frame) through libjxl, its orientation applied by the decoder.
Decoded decode_jxl(const uint8_t* data, size_t size, const DecodeOptions& opts,
                   const std::string& name);

// BMP as Pillow reads it (decode_bmp.cpp), and the bitmap of an ICO/CUR entry: its info header
// at header_at, its pixels at pixels_at (0: right after the header, masks and palette);
// halve_height for an icon's bitmap (colour rows, then its AND mask), alpha32: 32-bit pixels
// carry alpha (icons and cursors; a BMP's fourth byte is padding unless masks say otherwise).
Image decode_bmp(const uint8_t* data, size_t size, const DecodeOptions& opts,
                 const std::string& name);
Image decode_dib(const uint8_t* data, size_t size, size_t header_at, size_t pixels_at,
                 const DecodeOptions& opts, const std::string& name, bool halve_height,
                 bool alpha32);

// ICO and CUR (decode_ico.cpp): the entry Pillow shows, PNG or bitmap.
Decoded decode_ico(const uint8_t* data, size_t size, const DecodeOptions& opts,
                   const std::string& name);

// Netpbm, every variant (P1 to P6, up to 16 bits), as Pillow reads it (decode_pnm.cpp).
Image decode_pnm(const uint8_t* data, size_t size, const DecodeOptions& opts,
                 const std::string& name);

// GIF, its first frame as Pillow shows it (decode_gif.cpp).
Image decode_gif(const uint8_t* data, size_t size, const DecodeOptions& opts,
                 const std::string& name);

// PNG and TGA through stb_image, for the format the caller
// recognised. PNGs must have passed check_png_chunks() first.
Image decode_stb(const uint8_t* data, size_t size, const DecodeOptions& opts,
                 const std::string& name, Format format);

// Walks a PNG's chunks: IHDR (its dimensions checked at once), every CRC, truncation, IEND, and
// whether the compressed pixel data could possibly hold that many pixels. Returns the
// orientation its metadata asks for, read where Pillow reads it: the eXIf chunk, else
// ImageMagick's "Raw profile type exif" text chunk, else XMP's tiff:Orientation.
struct PngChunks {
  int orientation = 1;
  std::vector<uint8_t> exif;  // the eXIf chunk, else the raw profile's bytes
};
PngChunks check_png_chunks(const uint8_t* data, size_t size, const DecodeOptions& opts,
                           const std::string& name);

// CRC-32 as PNG and zlib define it.
uint32_t crc32(const uint8_t* data, size_t size);

// The EXIF orientation (1..8) in a TIFF stream (an "Exif\0\0" prefix is skipped), or 0 when it
// has none or cannot be read (Pillow's exif_transpose then leaves the image alone too).
int exif_orientation(const uint8_t* tiff, size_t size);

// The orientation an XMP packet states (tiff:Orientation="N" or <tiff:Orientation>N<), or 0.
int xmp_orientation(const uint8_t* xmp, size_t size);

// Turns the image upright for an EXIF orientation, as ImageOps.exif_transpose does.
Image apply_orientation(Image img, int orientation);

}  // namespace cbir::image::detail
