// The image section of cbir.h, through libcbir as a user links it: options, results equal to
// the golden pixels, ownership, and every failure leaving NULL/0 outputs and a message.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cbir.h"
#include "golden.hpp"

namespace {

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Result {
  int status;
  std::vector<uint8_t> pixels;
  int32_t height, width;
};

Result run_file(const std::string& path, const cbir_preprocess_options_t* opts) {
  uint8_t* px = reinterpret_cast<uint8_t*>(1);  // must be overwritten, even on failure
  int32_t h = -1, w = -1;
  Result r{cbir_image_preprocess_file(&px, &h, &w, path.c_str(), opts), {}, h, w};
  if (r.status == CBIR_OK) {
    r.pixels.assign(px, px + size_t(h) * w * 3);
    cbir_free(px);
  } else {
    CHECK(px == nullptr);
    CHECK((h == 0 && w == 0));
  }
  return r;
}

std::string last_error() { return cbir_last_error(); }

}  // namespace

TEST_CASE("options: the macro, the function and NULL all mean the same defaults") {
  cbir_preprocess_options_t a = CBIR_PREPROCESS_OPTIONS_INIT, b;
  cbir_preprocess_options_init(&b);
  cbir_preprocess_options_init(nullptr);
  CHECK(a.version == sizeof(cbir_preprocess_options_t));
  CHECK(b.version == a.version);
  CHECK((b.resize == CBIR_RESIZE_SQUASH && b.size == 224 && b.crop == 224));
  CHECK((b.interpolation == CBIR_INTERPOLATION_BICUBIC && b.exif_orientation == 1));
  CHECK((b.fast_decode == 0 && b.max_pixels == 0 && b.resize_before_rgb == 0));
}

TEST_CASE("preprocess_file and preprocess_buffer give the golden pixels") {
  CBIR_REQUIRE_GOLDEN(dir);
  cbir_preprocess_options_t dino = CBIR_PREPROCESS_OPTIONS_INIT;
  dino.resize = CBIR_RESIZE_SHORTER_SIDE_THEN_CENTER_CROP;
  dino.size = 256;
  dino.crop = 224;
  for (const char* name : {"photo_640x480_q90.jpg", "exif_rotate6_400x300.jpg", "alpha_200x200.png"}) {
    INFO(name);
    const std::string path = dir + "/images/" + name;
    const Result clip = run_file(path, nullptr);
    REQUIRE(clip.status == CBIR_OK);
    CHECK((clip.height == 224 && clip.width == 224));
    CHECK(clip.pixels == read_bytes(dir + "/preprocess/" + name + ".clip224.rgb"));
    const Result d = run_file(path, &dino);
    REQUIRE(d.status == CBIR_OK);
    CHECK(d.pixels == read_bytes(dir + "/preprocess/" + name + ".dino224.rgb"));

    const std::vector<uint8_t> file = read_bytes(path);
    uint8_t* px = nullptr;
    int32_t h = 0, w = 0;
    REQUIRE(cbir_image_preprocess_buffer(&px, &h, &w, file.data(), file.size(), &dino) == CBIR_OK);
    CHECK(std::vector<uint8_t>(px, px + size_t(h) * w * 3) == d.pixels);
    cbir_free(px);
  }
}

TEST_CASE("the options change what they say") {
  CBIR_REQUIRE_GOLDEN(dir);
  const std::string path = dir + "/images/exif_rotate6_400x300.jpg";
  cbir_preprocess_options_t o = CBIR_PREPROCESS_OPTIONS_INIT;
  o.size = 100;
  const Result small = run_file(path, &o);
  CHECK((small.status == CBIR_OK && small.height == 100 && small.width == 100));
  o.resize = CBIR_RESIZE_SHORTER_SIDE_THEN_CENTER_CROP;
  o.crop = 64;
  const Result cropped = run_file(path, &o);
  CHECK((cropped.height == 64 && cropped.width == 64));
  o.interpolation = CBIR_INTERPOLATION_BILINEAR;
  CHECK(run_file(path, &o).pixels != cropped.pixels);
  o.interpolation = CBIR_INTERPOLATION_BICUBIC;
  o.exif_orientation = 0;
  CHECK(run_file(path, &o).pixels != cropped.pixels);
  o.max_pixels = 1000;
  CHECK(run_file(path, &o).status == CBIR_EIMAGE_TOO_LARGE);

  // A caller built against an older, shorter struct: fields past its version keep defaults.
  cbir_preprocess_options_t old = CBIR_PREPROCESS_OPTIONS_INIT;
  old.version = offsetof(cbir_preprocess_options_t, max_pixels);
  old.max_pixels = 1;  // not part of that caller's struct: ignored
  CHECK(run_file(path, &old).status == CBIR_OK);

  cbir_preprocess_options_t fast = CBIR_PREPROCESS_OPTIONS_INIT;
  fast.fast_decode = 1;
  const Result exact = run_file(dir + "/images/large_2000x1500.jpg", nullptr);
  const Result quick = run_file(dir + "/images/large_2000x1500.jpg", &fast);
  REQUIRE((exact.status == CBIR_OK && quick.status == CBIR_OK));
  long sum = 0;
  for (size_t i = 0; i < exact.pixels.size(); ++i) sum += std::abs(exact.pixels[i] - quick.pixels[i]);
  CHECK(double(sum) / exact.pixels.size() < 2.0);
}

TEST_CASE("probe gives the upright size, or the decode error") {
  CBIR_REQUIRE_GOLDEN(dir);
  int32_t h = 0, w = 0;
  REQUIRE(cbir_image_probe_file(&h, &w, (dir + "/images/exif_rotate6_400x300.jpg").c_str(), nullptr) == CBIR_OK);
  CHECK((h == 400 && w == 300));
  cbir_preprocess_options_t raw = CBIR_PREPROCESS_OPTIONS_INIT;
  raw.exif_orientation = 0;
  REQUIRE(cbir_image_probe_file(&h, &w, (dir + "/images/exif_rotate6_400x300.jpg").c_str(), &raw) == CBIR_OK);
  CHECK((h == 300 && w == 400));
  const std::vector<uint8_t> gif = read_bytes(dir + "/images/anim_first_frame_120x90.gif");
  REQUIRE(cbir_image_probe_buffer(&h, &w, gif.data(), gif.size(), nullptr) == CBIR_OK);
  CHECK((h == 90 && w == 120));

  const std::string truncated = dir + "/bad/truncated_half.jpg";
  CHECK(cbir_image_probe_file(&h, &w, truncated.c_str(), nullptr) == CBIR_EIMAGE_TRUNCATED);
  CHECK((h == 0 && w == 0));
  CHECK(last_error().find(truncated) != std::string::npos);
  const std::vector<uint8_t> svg = read_bytes(dir + "/bad/svg_image.svg");
  CHECK(cbir_image_probe_buffer(&h, &w, svg.data(), svg.size(), nullptr) == CBIR_EIMAGE_FORMAT);
  CHECK(last_error().rfind("buffer: ", 0) == 0);
}

TEST_CASE("every failure: a code, NULL outputs and a message that says what to fix") {
  CBIR_REQUIRE_GOLDEN(dir);
  const std::string photo = dir + "/images/photo_640x480_q90.jpg";
  CHECK(run_file(dir + "/images/no_such.jpg", nullptr).status == CBIR_ENOTFOUND);
  CHECK(last_error().find("no_such.jpg") != std::string::npos);
  CHECK(run_file(dir + "/bad/bad_crc.png", nullptr).status == CBIR_EIMAGE_CORRUPT);
  CHECK(run_file(dir + "/bad/empty.jpg", nullptr).status == CBIR_EIMAGE_EMPTY);

  uint8_t* px = nullptr;
  int32_t h = 0, w = 0;
  CHECK(cbir_image_preprocess_file(nullptr, &h, &w, photo.c_str(), nullptr) == CBIR_EINVAL);
  CHECK(last_error() == "out_pixels must not be NULL");
  CHECK(cbir_image_preprocess_file(&px, nullptr, &w, photo.c_str(), nullptr) == CBIR_EINVAL);
  CHECK(cbir_image_preprocess_file(&px, &h, &w, nullptr, nullptr) == CBIR_EINVAL);
  CHECK(last_error() == "path must not be NULL");
  CHECK(cbir_image_preprocess_buffer(&px, &h, &w, nullptr, 10, nullptr) == CBIR_EINVAL);
  CHECK(cbir_image_preprocess_buffer(&px, &h, &w, nullptr, 0, nullptr) == CBIR_EIMAGE_EMPTY);
  CHECK(px == nullptr);

  cbir_preprocess_options_t o = CBIR_PREPROCESS_OPTIONS_INIT;
  o.resize = 7;
  CHECK(run_file(photo, &o).status == CBIR_EINVAL);
  CHECK(last_error().find("CBIR_RESIZE_") != std::string::npos);
  o = CBIR_PREPROCESS_OPTIONS_INIT;
  o.interpolation = 9;
  CHECK(run_file(photo, &o).status == CBIR_EINVAL);
  o = CBIR_PREPROCESS_OPTIONS_INIT;
  o.size = 0;
  CHECK(run_file(photo, &o).status == CBIR_EINVAL);
  CHECK(last_error().find("size") != std::string::npos);
  o = CBIR_PREPROCESS_OPTIONS_INIT;
  o.version = 1;
  CHECK(run_file(photo, &o).status == CBIR_EINVAL);
  CHECK(last_error().find("_INIT") != std::string::npos);
  o.version = sizeof(o) + 8;
  CHECK(run_file(photo, &o).status == CBIR_EINVAL);

  CHECK(run_file(photo, nullptr).status == CBIR_OK);
  CHECK(last_error().empty());  // a success clears the message
}
