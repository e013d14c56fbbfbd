// Pillow parity of the two model transforms on the golden images, the resampler's own
// properties, centre-crop geometry, normalisation and the fast JPEG path.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "golden.hpp"
#include "image/image.hpp"
#include "image/resample.hpp"

using namespace cbir::image;

namespace {

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Recipe clip224() {
  Recipe r;
  r.resize = Resize::squash;
  r.size = 224;
  return r;
}

Recipe dino224() {
  Recipe r;
  r.resize = Resize::shorter_side_then_center_crop;
  r.size = 256;
  r.crop = 224;
  r.mean = {0.485f, 0.456f, 0.406f};
  r.std = {0.229f, 0.224f, 0.225f};
  return r;
}

struct Diff {
  int max = 0;
  double mean = 0;
};

template <class A, class B>
Diff compare(const A& a, const B& b) {
  Diff d;
  if (a.size() != b.size() || a.empty()) return {256, 256};
  long sum = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const int e = std::abs(int(a[i]) - int(b[i]));
    d.max = std::max(d.max, e);
    sum += e;
  }
  d.mean = double(sum) / a.size();
  return d;
}

}  // namespace

TEST_CASE("both transforms match Pillow + torchvision on every golden image") {
  CBIR_REQUIRE_GOLDEN(dir);
  const auto entries = nlohmann::json::parse(read_bytes(dir + "/preprocess.json"));
  REQUIRE(entries.size() >= 26);
  int exact = 0;
  for (const auto& e : entries) {
    const std::string image = e["image"], transform = e["transform"];
    const Recipe recipe = transform == "clip224" ? clip224() : dino224();
    REQUIRE((transform == "clip224" || transform == "dino224"));
    const Image got = resize_for(decode_file(dir + "/" + image, {}), recipe);
    const std::vector<uint8_t> want = read_bytes(dir + "/" + e["rgb"].get<std::string>());
    CHECK(got.height == e["height"].get<int>());
    CHECK(got.width == e["width"].get<int>());
    const Diff d = compare(got.rgb, want);
    char line[200];
    std::snprintf(line, sizeof line, "%-36s %s: max abs diff %d, mean %.5f", image.c_str(),
                  transform.c_str(), d.max, d.mean);
    INFO(line);
    CHECK(d.max <= 1);
    exact += d.max == 0;
    if (d.max > 0) WARN(line);
  }
  WARN(std::to_string(exact) + " of " + std::to_string(entries.size()) +
       " golden outputs are byte-identical to Pillow");
}

namespace {

// The same pattern as tests/unit/test_image_fixtures.hpp, as the Python that made the
// references below builds it: byte i = (i * 37 + i // 7) & 0xFF.
Image pattern_image(int w, int h) {
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(size_t(w) * h * 3);
  for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = uint8_t((i * 37 + i / 7) & 0xFF);
  return img;
}

Image full_resize(const Image& src, int w, int h, Interpolation f) {
  return detail::resample(src, w, h, f, 0, 0, w, h);
}

Image crop_of(const Image& src, int x0, int y0, int w, int h) {
  Image out;
  out.width = w;
  out.height = h;
  for (int y = 0; y < h; ++y)
    out.rgb.insert(out.rgb.end(), src.rgb.begin() + ((y0 + y) * src.width + x0) * 3,
                   src.rgb.begin() + ((y0 + y) * src.width + x0 + w) * 3);
  return out;
}

}  // namespace

TEST_CASE("bilinear and bicubic, down and up, match Pillow's Image.resize") {
  // Image.fromarray(pattern 7x5).resize(size, filter) with Pillow 9.4.
  const Image src = pattern_image(7, 5);
  auto bytes = [](const Image& img) { return std::vector<uint8_t>(img.rgb.begin(), img.rgb.end()); };
  CHECK(bytes(full_resize(src, 3, 2, Interpolation::bilinear)) ==
        std::vector<uint8_t>{105, 90, 127, 147, 124, 104, 127, 162, 143, 91, 114, 151, 130, 107, 128, 151, 149, 104});
  CHECK(bytes(full_resize(src, 3, 2, Interpolation::bicubic)) ==
        std::vector<uint8_t>{100, 82, 128, 158, 125, 92, 122, 168, 150, 86, 117, 156, 132, 99, 125, 157, 154, 103});
  CHECK(bytes(full_resize(src, 4, 7, Interpolation::bilinear)) ==
        std::vector<uint8_t>{58, 83, 120, 159, 64, 101, 129, 166, 71, 110, 147, 172, 65, 90, 127, 166, 71,
                             108, 136, 173, 78, 117, 154, 179, 73, 98, 135, 174, 79, 116, 144, 181, 86, 125,
                             162, 187, 82, 107, 144, 183, 88, 125, 153, 190, 95, 134, 171, 196, 82, 116, 153,
                             97, 97, 134, 162, 104, 104, 143, 171, 109, 87, 124, 161, 67, 105, 142, 170, 74,
                             112, 151, 176, 79, 94, 131, 168, 74, 112, 149, 177, 81, 119, 158, 183, 86});
  CHECK(bytes(full_resize(src, 4, 7, Interpolation::bicubic)) ==
        std::vector<uint8_t>{53, 83, 120, 166, 61, 102, 126, 167, 62, 108, 145, 175, 60, 90, 127, 173, 68,
                             109, 133, 174, 69, 115, 152, 182, 70, 99, 136, 187, 77, 118, 142, 188, 78, 124,
                             162, 196, 78, 108, 145, 191, 86, 127, 151, 192, 87, 133, 170, 200, 81, 117, 154,
                             91, 98, 136, 163, 93, 103, 142, 173, 102, 89, 126, 163, 57, 108, 145, 173, 59,
                             116, 151, 181, 68, 96, 133, 170, 73, 115, 152, 180, 75, 122, 158, 188, 84});
}

TEST_CASE("a window of the resize is exactly that crop of the full resize") {
  const Image src = pattern_image(97, 61);
  for (Interpolation f : {Interpolation::bicubic, Interpolation::bilinear}) {
    for (auto [w, h] : {std::pair{40, 30}, std::pair{200, 150}, std::pair{97, 20}, std::pair{33, 61}}) {
      const Image full = full_resize(src, w, h, f);
      for (auto [x0, y0, cw, ch] : {std::array{0, 0, w, h}, std::array{w / 3, h / 4, w / 2, h / 2},
                                    std::array{w - 1, h - 1, 1, 1}}) {
        INFO(w << "x" << h << " window " << x0 << "," << y0 << " " << cw << "x" << ch);
        CHECK(detail::resample(src, w, h, f, x0, y0, cw, ch).rgb == crop_of(full, x0, y0, cw, ch).rgb);
      }
    }
  }
  CHECK(full_resize(src, 97, 61, Interpolation::bicubic).rgb == src.rgb);  // same size: a copy
  CHECK_THROWS_AS(detail::resample(src, 10, 10, Interpolation::bicubic, 5, 5, 6, 5), cbir::Error);
}

TEST_CASE("shorter side then centre crop: torchvision's sizes, rounding and padding") {
  Recipe r;
  r.resize = Resize::shorter_side_then_center_crop;
  r.size = 20;
  r.crop = 16;
  SECTION("the long side is int(size * long / short) and the crop rounds halves to even") {
    // 50x30 -> 33x20 (int(20 * 50 / 30) = 33); left = round(17 / 2) = round(8.5) = 8, top = 2.
    const Image src = pattern_image(50, 30);
    const Image full = full_resize(src, 33, 20, Interpolation::bicubic);
    CHECK(resize_for(src, r).rgb == crop_of(full, 8, 2, 16, 16).rgb);
    // 40x14 -> 57x20; left = round(41 / 2) = round(20.5) = 20 (not 21).
    const Image src2 = pattern_image(40, 14);
    CHECK(resize_for(src2, r).rgb == crop_of(full_resize(src2, 57, 20, Interpolation::bicubic), 20, 2, 16, 16).rgb);
    // 30x64 (portrait) -> 20x42; top = round(26 / 2) = 13; 30x59 -> 20x39: round(11.5) = 12.
    const Image src3 = pattern_image(30, 64), src4 = pattern_image(30, 59);
    CHECK(resize_for(src3, r).rgb == crop_of(full_resize(src3, 20, 42, Interpolation::bicubic), 2, 13, 16, 16).rgb);
    CHECK(resize_for(src4, r).rgb == crop_of(full_resize(src4, 20, 39, Interpolation::bicubic), 2, 12, 16, 16).rgb);
  }
  SECTION("a crop larger than the image is padded with black, as torchvision pads") {
    r.crop = 25;  // 40x20 -> 40x20 (already), crop 25: rows padded (25 - 20) // 2 = 2 above
    const Image src = pattern_image(40, 20);
    const Image out = resize_for(src, r);
    REQUIRE((out.width == 25 && out.height == 25));
    const Image inside = crop_of(src, 8, 0, 25, 20);  // left = round(15 / 2) = round(7.5) = 8
    CHECK(crop_of(out, 0, 2, 25, 20).rgb == inside.rgb);
    for (int y : {0, 1, 22, 23, 24})
      CHECK(crop_of(out, 0, y, 25, 1).rgb == Pixels(25 * 3, 0));
  }
  SECTION("an extreme aspect ratio computes only the crop") {
    const Image src = pattern_image(20000, 3);  // the full resize would be 133333 x 20
    const Image out = resize_for(src, r);
    CHECK((out.width == 16 && out.height == 16));
  }
  SECTION("bad recipes are refused") {
    r.size = 0;
    CHECK_THROWS_AS(resize_for(pattern_image(4, 4), r), cbir::Error);
    r.size = 20;
    r.crop = 20000;
    CHECK_THROWS_AS(resize_for(pattern_image(4, 4), r), cbir::Error);
  }
}

TEST_CASE("normalize_chw: channel-major, (x / 255 - mean) / std in float32 like torchvision") {
  const Recipe r = clip224();
  const Image img = resize_for(pattern_image(50, 40), r);
  std::vector<float> out(3 * 224 * 224);
  normalize_chw(img, r, out.data());
  for (size_t i : {size_t(0), size_t(1), size_t(224 * 224 - 1), size_t(777)}) {
    for (int c = 0; c < 3; ++c) {
      const float want = (float(img.rgb[i * 3 + c]) / 255.0f - r.mean[c]) / r.std[c];
      CHECK(out[c * 224 * 224 + i] == want);
    }
  }
  CHECK_THROWS_AS(normalize_chw(pattern_image(5, 5), r, out.data()), cbir::Error);
}

TEST_CASE("fast JPEG decoding stays close to exact on the large golden image") {
  CBIR_REQUIRE_GOLDEN(dir);
  for (const Recipe& r : {clip224(), dino224()}) {
    const std::string path = dir + "/images/large_2000x1500.jpg";
    const Image exact = resize_for(decode_file(path, {}), r);
    const Image fast = resize_for(decode_file(path, fast_options_for(r, {})), r);
    const Diff d = compare(exact.rgb, fast.rgb);
    INFO("fast vs exact: max " << d.max << ", mean " << d.mean);
    CHECK(d.mean < 2.0);
    WARN("fast vs exact (" << (r.resize == Resize::squash ? "clip224" : "dino224")
                           << "): max abs diff " << d.max << ", mean " << d.mean);
  }
}

TEST_CASE("the SIMD kernels give the same bytes as the portable ones") {
  std::mt19937 rng(7);
  for (int round = 0; round < 60; ++round) {
    const int sw = 1 + int(rng() % 300), sh = 1 + int(rng() % 200);
    const int ow = 1 + int(rng() % 260), oh = 1 + int(rng() % 260);
    Image src;
    src.width = sw;
    src.height = sh;
    src.rgb.resize(size_t(sw) * sh * 3);
    for (uint8_t& v : src.rgb) v = uint8_t(rng() % 2 ? 255 * (rng() % 2) : rng());  // edges overshoot
    const Interpolation f = round % 3 ? Interpolation::bicubic : Interpolation::bilinear;
    INFO(sw << "x" << sh << " -> " << ow << "x" << oh);
    CHECK(detail::resample(src, ow, oh, f, 0, 0, ow, oh, detail::Kernels::best).rgb ==
          detail::resample(src, ow, oh, f, 0, 0, ow, oh, detail::Kernels::portable).rgb);
  }
}

TEST_CASE("decoding and resizing on several threads at once give the single-thread bytes") {
  CBIR_REQUIRE_GOLDEN(dir);
  const std::vector<std::string> files = {"large_2000x1500.jpg", "photo_640x480_q90.jpg",
                                          "palette_150x100.png", "anim_first_frame_120x90.gif",
                                          "bitmap_123x77.bmp"};
  std::vector<Pixels> want;
  for (const std::string& f : files) want.push_back(resize_for(decode_file(dir + "/images/" + f, {}), dino224()).rgb);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round)
        for (size_t i = 0; i < files.size(); ++i) {
          const size_t k = (i + t) % files.size();
          mismatches[t] += resize_for(decode_file(dir + "/images/" + files[k], {}), dino224()).rgb != want[k];
        }
    });
  for (std::thread& th : threads) th.join();
  CHECK(mismatches == std::vector<int>(4, 0));
}
