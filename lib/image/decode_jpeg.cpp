// JPEG through libjpeg-turbo's TurboJPEG API with its default (accurate) settings: the same
// library and settings Pillow decodes with, so the pixels are the same. Before decoding, a
// walk over the markers finds the EXIF block and tells a truncated file from a complete one
// (libjpeg itself only warns and pads a truncated image with gray; Pillow refuses it).
#include <turbojpeg.h>

#include <algorithm>
#include <cstring>

#include "common/error.hpp"
#include "common/log.hpp"
#include "image/decoders.hpp"

namespace cbir::image::detail {
namespace {

struct Layout {
  bool complete = false;  // every segment and scan present, up to EOI
  const uint8_t* exif = nullptr;  // TIFF stream of the first APP1 "Exif" block
  size_t exif_size = 0;
};

// Skips entropy-coded data from `i`; returns the offset of the 0xFF that starts the next
// marker, or `n` when the data ends first. Inside a scan 0xFF is followed by 0x00 (a stuffed
// byte), a restart marker, or more 0xFF fill bytes before a real marker.
size_t skip_scan(const uint8_t* d, size_t n, size_t i) {
  while (i < n) {
    const void* ff = std::memchr(d + i, 0xFF, n - i);
    if (ff == nullptr) return n;
    i = static_cast<size_t>(static_cast<const uint8_t*>(ff) - d);
    if (i + 1 >= n) return n;
    const uint8_t next = d[i + 1];
    if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
      i += 2;
    } else if (next == 0xFF) {
      i += 1;
    } else {
      return i;
    }
  }
  return n;
}

Layout walk_markers(const uint8_t* d, size_t n) {
  Layout out;
  size_t i = 2;  // after SOI
  while (i < n) {
    if (d[i] != 0xFF) {  // stray bytes between segments: libjpeg skips them, so do we
      const void* ff = std::memchr(d + i, 0xFF, n - i);
      if (ff == nullptr) return out;
      i = static_cast<size_t>(static_cast<const uint8_t*>(ff) - d);
    }
    while (i < n && d[i] == 0xFF) ++i;
    if (i >= n) return out;
    const uint8_t marker = d[i++];
    if (marker == 0xD9) {
      out.complete = true;
      return out;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (n - i < 2) return out;
    const size_t length = (static_cast<size_t>(d[i]) << 8) | d[i + 1];
    if (length < 2) {  // libjpeg rejects it; say "complete" and let it report the damage
      out.complete = true;
      return out;
    }
    if (n - i < length) return out;
    const uint8_t* payload = d + i + 2;
    const size_t payload_size = length - 2;
    if (marker == 0xE1 && out.exif == nullptr && payload_size >= 6 &&
        std::memcmp(payload, "Exif\0\0", 6) == 0) {
      out.exif = payload + 6;
      out.exif_size = payload_size - 6;
    }
    i += length;
    if (marker == 0xDA) i = skip_scan(d, n, i);
  }
  return out;
}

// Pillow reads CMYK JPEGs as Adobe-inverted ("CMYK;I") and converts with its cmyk2rgb:
// channel = (255 - K) - (255 - K) * C / 255, in its rounding. Here on libjpeg's raw output,
// where Pillow's C is 255 - c and its 255 - K is k.
void cmyk_to_rgb(const uint8_t* cmyk, size_t pixels, uint8_t* rgb) {
  for (size_t p = 0; p < pixels; ++p, cmyk += 4, rgb += 3) {
    const int k = cmyk[3];
    for (int c = 0; c < 3; ++c) {
      const int t = (255 - cmyk[c]) * k + 128;
      const int v = k - (((t >> 8) + t) >> 8);
      rgb[c] = static_cast<uint8_t>(std::clamp(v, 0, 255));
    }
  }
}

// The smallest DCT scale (1/8, 1/4, 1/2) whose shorter side still has 2 * min_side pixels.
tjscalingfactor fast_scale(int width, int height, int min_side) {
  for (int denom : {8, 4, 2}) {
    const tjscalingfactor sf{1, denom};
    if (std::min(TJSCALED(width, sf), TJSCALED(height, sf)) >= 2 * min_side) return sf;
  }
  return tjscalingfactor{1, 1};
}

struct Decompressor {
  tjhandle handle = tjInitDecompress();
  ~Decompressor() {
    if (handle) tjDestroy(handle);
  }
  std::string error() { return tjGetErrorStr2(handle); }
};

}  // namespace

Decoded decode_jpeg(const uint8_t* data, size_t size, const DecodeOptions& opts,
                    const std::string& name) {
  const Layout layout = walk_markers(data, size);
  if (!layout.complete)
    fail_image(CBIR_EIMAGE_TRUNCATED, name,
               "the JPEG data ends early (at byte " + std::to_string(size) +
                   ", before its end marker); the file is incomplete");

  Decompressor tj;
  if (tj.handle == nullptr) fail(CBIR_ENOMEM, "cannot start the JPEG decoder: " + tj.error());
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  // A warning here (say "N extraneous bytes before marker", which cameras and editors write)
  // leaves a usable header: libjpeg and Pillow go on, and so do we.
  if (tjDecompressHeader3(tj.handle, data, size, &width, &height, &subsampling, &colorspace) != 0 &&
      !(tjGetErrorCode(tj.handle) == TJERR_WARNING && width > 0 && height > 0)) {
    const std::string why = tj.error();  // e.g. 12-bit or lossless JPEG: libjpeg-turbo's 8-bit only
    if (why.find("Unsupported JPEG") != std::string::npos)
      fail_image(CBIR_EIMAGE_FORMAT, name, "this kind of JPEG is not supported (" + why + ")");
    fail_image(CBIR_EIMAGE_CORRUPT, name, "invalid JPEG header: " + why);
  }
  check_dimensions(static_cast<uint64_t>(width), static_cast<uint64_t>(height), opts, name);

  const tjscalingfactor sf = opts.fast_min_side > 0
                                 ? fast_scale(width, height, opts.fast_min_side)
                                 : tjscalingfactor{1, 1};
  Decoded out;
  out.image.width = TJSCALED(width, sf);
  out.image.height = TJSCALED(height, sf);
  const size_t pixels = static_cast<size_t>(out.image.width) * out.image.height;
  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  Pixels raw(pixels * (cmyk ? 4 : 3));
  // LIMITSCANS: a progressive file with hundreds of scans is an attack, not a photo.
  if (tjDecompress2(tj.handle, data, size, raw.data(), out.image.width, 0, out.image.height,
                    cmyk ? TJPF_CMYK : TJPF_RGB, TJFLAG_LIMITSCANS) != 0) {
    // A warning leaves a whole image (damaged entropy data is concealed), which Pillow accepts
    // too; truncation, the warning that matters, was ruled out above.
    if (tjGetErrorCode(tj.handle) != TJERR_WARNING)
      fail_image(CBIR_EIMAGE_CORRUPT, name, "JPEG data is damaged: " + tj.error());
    if (log_enabled(CBIR_LOG_WARN)) log(CBIR_LOG_WARN, name + ": JPEG decoded with a warning: " + tj.error());
  }
  if (cmyk) {
    out.image.rgb.resize(pixels * 3);
    cmyk_to_rgb(raw.data(), pixels, out.image.rgb.data());
  } else {
    out.image.rgb = std::move(raw);
  }
  if (layout.exif) {
    out.orientation = exif_orientation(layout.exif, layout.exif_size);
    out.exif.assign(layout.exif, layout.exif + layout.exif_size);
  }
  return out;
}

}  // namespace cbir::image::detail
