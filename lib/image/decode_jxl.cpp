// JPEG XL through libjxl (djxl's library): the first frame, 8-bit RGB (alpha dropped), the
// codestream's orientation applied by the decoder (libjxl's default).
#include <jxl/decode.h>

#include <memory>

#include "common/error.hpp"
#include "image/decoders.hpp"

namespace cbir::image::detail {

Decoded decode_jxl(const uint8_t* data, size_t size, const DecodeOptions& opts,
                   const std::string& name) {
  std::unique_ptr<JxlDecoder, void (*)(JxlDecoder*)> dec(JxlDecoderCreate(nullptr), JxlDecoderDestroy);
  if (!dec) fail(CBIR_ENOMEM, "cannot start the JPEG XL decoder");
  if (JxlDecoderSubscribeEvents(dec.get(), JXL_DEC_BASIC_INFO | JXL_DEC_FULL_IMAGE) != JXL_DEC_SUCCESS ||
      JxlDecoderSetInput(dec.get(), data, size) != JXL_DEC_SUCCESS)
    fail_image(CBIR_EIMAGE_CORRUPT, name, "libjxl refused the data");
  JxlDecoderCloseInput(dec.get());

  const JxlPixelFormat format{3, JXL_TYPE_UINT8, JXL_NATIVE_ENDIAN, 0};
  Decoded out;
  bool have_info = false, have_buffer = false;
  for (;;) {
    const JxlDecoderStatus status = JxlDecoderProcessInput(dec.get());
    if (status == JXL_DEC_BASIC_INFO) {
      JxlBasicInfo info;
      if (JxlDecoderGetBasicInfo(dec.get(), &info) != JXL_DEC_SUCCESS)
        fail_image(CBIR_EIMAGE_CORRUPT, name, "invalid JPEG XL header");
      check_dimensions(info.xsize, info.ysize, opts, name);  // already as displayed (oriented)
      out.image.width = static_cast<int>(info.xsize);
      out.image.height = static_cast<int>(info.ysize);
      have_info = true;
    } else if (status == JXL_DEC_NEED_IMAGE_OUT_BUFFER) {
      size_t bytes = 0;
      if (!have_info || JxlDecoderImageOutBufferSize(dec.get(), &format, &bytes) != JXL_DEC_SUCCESS ||
          bytes != size_t{3} * out.image.width * out.image.height)
        fail_image(CBIR_EIMAGE_CORRUPT, name, "the JPEG XL image does not match its header");
      out.image.rgb.resize(bytes);
      if (JxlDecoderSetImageOutBuffer(dec.get(), &format, out.image.rgb.data(), bytes) != JXL_DEC_SUCCESS)
        fail_image(CBIR_EIMAGE_CORRUPT, name, "libjxl refused the output buffer");
      have_buffer = true;
    } else if (status == JXL_DEC_FULL_IMAGE) {
      if (!have_buffer) fail_image(CBIR_EIMAGE_CORRUPT, name, "the JPEG XL has no pixels");
      return out;  // the first frame; later frames of an animation are not decoded
    } else if (status == JXL_DEC_NEED_MORE_INPUT) {
      fail_image(CBIR_EIMAGE_TRUNCATED, name, "the JPEG XL data ends early; the file is incomplete");
    } else if (status == JXL_DEC_SUCCESS) {
      fail_image(CBIR_EIMAGE_CORRUPT, name, "the JPEG XL holds no image");
    } else {
      fail_image(CBIR_EIMAGE_CORRUPT, name, "the JPEG XL data is damaged");
    }
  }
}

}  // namespace cbir::image::detail
