// lib/image compiled without libwebp, libtiff, libheif and libjxl (tests/image.cmake), as on a
// machine that lacks them: those formats are still recognised by their bytes, and refused
// with CBIR_EIMAGE_FORMAT naming the package to install, not mistaken for damaged files.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cbir.h"
#include "common/error.hpp"
#include "image/image.hpp"

namespace {

struct Outcome {
  int code = CBIR_OK;
  std::string message;
};

Outcome decode(const std::string& bytes) {
  Outcome o;
  try {
    cbir::image::decode_memory(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                               cbir::image::DecodeOptions{}, "photo.jpg");
  } catch (const cbir::Error& e) {
    o.code = e.code();
    o.message = e.what();
  }
  return o;
}

std::string ftyp(const std::string& major, const std::string& compatible) {
  const std::string body = "ftyp" + major + std::string("\0\0\0\0", 4) + compatible;
  std::string box(4, '\0');
  box[3] = static_cast<char>(body.size() + 4);
  return box + body + std::string(32, '\0');
}

}  // namespace

TEST_CASE("this build lists only the formats it always has") {
  CHECK(cbir::image::decodable_formats() == "jpeg png gif bmp tga pnm ico");
}

TEST_CASE("formats whose library is missing are refused naming the package") {
  const struct {
    const char* what;
    std::string bytes;
    const char* package;
  } cases[] = {
      {"WebP", std::string("RIFF\x20\0\0\0WEBPVP8 ", 16) + std::string(24, '\0'), "libwebp-dev"},
      {"TIFF", std::string("II*\0\x08\0\0\0", 8) + std::string(32, '\0'), "libtiff-dev"},
      {"TIFF", std::string("MM\0*\0\0\0\x08", 8) + std::string(32, '\0'), "libtiff-dev"},
      {"HEIF/HEIC", ftyp("heic", "mif1heic"), "libheif-dev"},
      {"HEIF/HEIC", ftyp("mif1", "mif1miaf"), "libheif-dev"},
      {"AVIF", ftyp("avif", "mif1avifmiaf"), "libheif-dev"},
      {"AVIF", ftyp("avis", "avismsf1"), "libheif-dev"},
      {"JPEG XL", std::string("\xFF\x0A", 2) + std::string(30, '\0'), "libjxl-dev"},
      {"JPEG XL", std::string("\0\0\0\x0CJXL \r\n\x87\n", 12) + std::string(30, '\0'), "libjxl-dev"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const Outcome o = decode(c.bytes);
    CHECK(o.code == CBIR_EIMAGE_FORMAT);
    CHECK(o.message.find(std::string("this is a ") + c.what + " image") != std::string::npos);
    CHECK(o.message.find(c.package) != std::string::npos);
    CHECK(o.message.find("photo.jpg") == 0);  // by content, whatever the name says
  }
}
