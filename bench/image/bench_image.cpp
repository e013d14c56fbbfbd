// Decode + preprocess time per image through lib/image's C++ API, the path the model takes:
// decode_file -> resize_for -> normalize_chw (float CHW, what the encoder is fed).
//
//   bench_image SECONDS OUT_DIR CASE...
//
// A CASE is TRANSFORM,FAST,PATH: TRANSFORM is clip (224 squash, Chinese-CLIP) or dino (shorter
// side 256, centre crop 224, DINOv2), FAST is 0 or 1. For each case prints "MS CASE": CPU
// milliseconds per image on one thread (CPU time, so that other load on a shared machine
// distorts it less), the file already in the page cache. Writes the uint8 HWC pixels before
// normalisation to OUT_DIR/<case index>.rgb, so that the caller can check them against the
// reference's.
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "image/image.hpp"

using namespace cbir::image;

double cpu_seconds() { return double(std::clock()) / CLOCKS_PER_SEC; }

int main(int argc, char** argv) try {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_image SECONDS OUT_DIR TRANSFORM,FAST,PATH...\n");
    return 2;
  }
  const double seconds = std::atof(argv[1]);
  const std::string out_dir = argv[2];
  for (int i = 3; i < argc; ++i) {
    const std::string spec = argv[i];
    const size_t a = spec.find(','), b = spec.find(',', a + 1);
    if (a == std::string::npos || b == std::string::npos) {
      std::fprintf(stderr, "bench_image: bad case '%s'\n", argv[i]);
      return 2;
    }
    const std::string path = spec.substr(b + 1);
    Recipe recipe;  // Chinese-CLIP's defaults
    if (spec.substr(0, a) == "dino") {
      recipe.resize = Resize::shorter_side_then_center_crop;
      recipe.size = 256;
      recipe.crop = 224;
      recipe.mean = {0.485f, 0.456f, 0.406f};
      recipe.std = {0.229f, 0.224f, 0.225f};
    }
    const DecodeOptions opts =
        spec.substr(a + 1, b - a - 1) == "1" ? fast_options_for(recipe, {}) : DecodeOptions{};
    std::vector<float> tensor(3 * recipe.output_side() * recipe.output_side());

    const Image first = resize_for(decode_file(path, opts), recipe);  // warm-up, and the output
    const std::string out = out_dir + "/" + std::to_string(i - 3) + ".rgb";
    FILE* f = std::fopen(out.c_str(), "wb");
    if (!f || std::fwrite(first.rgb.data(), 1, first.rgb.size(), f) != first.rgb.size()) return 1;
    std::fclose(f);

    size_t done = 0;
    const double start = cpu_seconds();
    double elapsed = 0;
    do {
      normalize_chw(resize_for(decode_file(path, opts), recipe), recipe, tensor.data());
      ++done;
      elapsed = cpu_seconds() - start;
    } while (elapsed < seconds);
    std::printf("%.3f %s\n", 1000.0 * elapsed / double(done), argv[i]);
  }
  return 0;
} catch (const cbir::Error& e) {
  std::fprintf(stderr, "bench_image: %s\n", e.what());
  return 1;
}
