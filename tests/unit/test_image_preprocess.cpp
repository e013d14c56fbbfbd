// Pillow parity of the two model transforms on the golden images, the resampler's own
// properties, centre-crop geometry, normalisation and the fast JPEG path.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
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

Diff compare(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
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
