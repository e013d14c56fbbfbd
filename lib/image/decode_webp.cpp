// WebP through libwebp. Pillow 9.4 decodes every WebP (still or animated) with libwebp's
// animation decoder in RGBA and keeps the first frame; doing the same gives its pixels bit for
// bit, including the RGB of transparent pixels (the animation decoder clears them to zero).
#include <webp/decode.h>
#include <webp/demux.h>

#include <memory>

#include "common/error.hpp"
#include "image/decoders.hpp"

namespace cbir::image::detail {

Decoded decode_webp(const uint8_t* data, size_t size, const DecodeOptions& opts,
                    const std::string& name) {
  // RIFF says how long the file is: less data than that is a cut-off download or copy.
  const uint64_t riff = size >= 8 ? (data[4] | data[5] << 8 | data[6] << 16 | uint64_t{data[7]} << 24) : 0;
  if (riff + 8 > size)
    fail_image(CBIR_EIMAGE_TRUNCATED, name,
               "the WebP data ends early (" + std::to_string(size) + " of the " +
                   std::to_string(riff + 8) + " bytes its header announces); the file is incomplete");
  WebPBitstreamFeatures features;
  const VP8StatusCode status = WebPGetFeatures(data, size, &features);
  if (status == VP8_STATUS_NOT_ENOUGH_DATA)
    fail_image(CBIR_EIMAGE_TRUNCATED, name, "the WebP data ends inside its header; the file is incomplete");
  if (status == VP8_STATUS_UNSUPPORTED_FEATURE)
    fail_image(CBIR_EIMAGE_FORMAT, name, "this WebP uses a feature libwebp does not support");
  if (status != VP8_STATUS_OK)
    fail_image(CBIR_EIMAGE_CORRUPT, name, "the WebP header is invalid (libwebp status " +
                                              std::to_string(static_cast<int>(status)) +
                                              "); the file is damaged");
  check_dimensions(static_cast<uint64_t>(features.width), static_cast<uint64_t>(features.height),
                   opts, name);

  const WebPData webp{data, size};
  WebPAnimDecoderOptions options;
  WebPAnimDecoderOptionsInit(&options);
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  std::unique_ptr<WebPAnimDecoder, void (*)(WebPAnimDecoder*)> dec(
      WebPAnimDecoderNew(&webp, &options), WebPAnimDecoderDelete);
  if (!dec) fail_image(CBIR_EIMAGE_CORRUPT, name, "the WebP container is damaged");
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(dec.get(), &info) || info.frame_count == 0)
    fail_image(CBIR_EIMAGE_CORRUPT, name, "the WebP holds no frame");
  // The canvas can differ from the first frame's size in an animation: check it too.
  check_dimensions(info.canvas_width, info.canvas_height, opts, name);
  uint8_t* rgba = nullptr;
  int timestamp = 0;
  if (!WebPAnimDecoderGetNext(dec.get(), &rgba, &timestamp) || rgba == nullptr)
    fail_image(CBIR_EIMAGE_CORRUPT, name, "the WebP image data is damaged");

  Decoded out;
  out.image.width = static_cast<int>(info.canvas_width);
  out.image.height = static_cast<int>(info.canvas_height);
  // Pillow opens the file as RGBA when its header says it has alpha, else as RGB.
  const WebPDemuxer* demux = WebPAnimDecoderGetDemuxer(dec.get());
  const bool alpha = (WebPDemuxGetI(demux, WEBP_FF_FORMAT_FLAGS) & ALPHA_FLAG) != 0;
  rgba_to_rgb(rgba, size_t{4} * info.canvas_width, out.image, alpha);

  // Orientation from the EXIF chunk (Pillow 9.4 reads no XMP orientation from a WebP).
  WebPChunkIterator chunk;
  int orientation = 0;
  if (WebPDemuxGetChunk(demux, "EXIF", 1, &chunk)) {
    orientation = exif_orientation(chunk.chunk.bytes, chunk.chunk.size);
    out.exif.assign(chunk.chunk.bytes, chunk.chunk.bytes + chunk.chunk.size);
    WebPDemuxReleaseChunkIterator(&chunk);
  }
  out.orientation = orientation ? orientation : 1;
  return out;
}

}  // namespace cbir::image::detail
