// cbir preprocess: the pixels a model's image encoder would get (before normalisation), to
// diff against a Python pipeline.
#include <cstdio>
#include <memory>

#include "commands.hpp"

namespace cli {

const char* const kPreprocessUsage =
    "usage: cbir preprocess [--transform squash|shorter_side_then_center_crop] [--size S]\n"
    "                       [--crop C] [--interpolation bicubic|bilinear] [--fast] [--no-exif]\n"
    "                       [--max-pixels N] --out FILE IMAGE\n"
    "\n"
    "Decodes IMAGE and resizes it as an image encoder would, writes the uint8 RGB pixels (HWC,\n"
    "rows top to bottom, no normalisation) to FILE and prints their height and width as\n"
    "\"HEIGHT WIDTH\". In Python: numpy.fromfile(FILE, numpy.uint8).reshape(HEIGHT, WIDTH, 3).\n"
    "\n"
    "  --transform T       squash (default): Resize((S, S)), as Chinese-CLIP;\n"
    "                      shorter_side_then_center_crop: Resize(S), CenterCrop(C), as DINOv2\n"
    "  --size S            output side (squash) or shorter side (default 224)\n"
    "  --crop C            centre crop side for shorter_side_then_center_crop (default 224)\n"
    "  --interpolation I   bicubic (default) or bilinear, Pillow's filters\n"
    "  --fast              decode large JPEGs at a reduced scale first (faster, not exact)\n"
    "  --no-exif           ignore the EXIF orientation\n"
    "  --max-pixels N      refuse images with more pixels (default 89478485)\n"
    "  --out FILE          where to write the pixels\n"
    "\n"
    "A bad image gives one error line and exit status 1.\n";

int cmd_preprocess(int argc, char** argv) {
  Args args(argc, argv, {"--transform", "--size", "--crop", "--interpolation", "--max-pixels", "--out"},
            {"--fast", "--no-exif"});
  if (args.positional().size() != 1) throw UsageError("give exactly one IMAGE");
  if (!args.has("--out")) throw UsageError("--out FILE is required");

  cbir_preprocess_options_t opts = CBIR_PREPROCESS_OPTIONS_INIT;
  const std::string transform = args.get("--transform", "squash");
  if (transform == "squash")
    opts.resize = CBIR_RESIZE_SQUASH;
  else if (transform == "shorter_side_then_center_crop")
    opts.resize = CBIR_RESIZE_SHORTER_SIDE_THEN_CENTER_CROP;
  else
    throw UsageError("--transform must be squash or shorter_side_then_center_crop, not '" +
                     transform + "'");
  const std::string interpolation = args.get("--interpolation", "bicubic");
  if (interpolation == "bicubic")
    opts.interpolation = CBIR_INTERPOLATION_BICUBIC;
  else if (interpolation == "bilinear")
    opts.interpolation = CBIR_INTERPOLATION_BILINEAR;
  else
    throw UsageError("--interpolation must be bicubic or bilinear, not '" + interpolation + "'");
  opts.size = static_cast<int32_t>(args.get_int("--size", 224, 1, 16384));
  opts.crop = static_cast<int32_t>(args.get_int("--crop", 224, 1, 16384));
  opts.max_pixels = static_cast<uint64_t>(args.get_int("--max-pixels", 89478485, 1, 1L << 40));
  opts.fast_decode = args.has("--fast");
  opts.exif_orientation = !args.has("--no-exif");

  const std::string image = args.positional()[0], out = args.get("--out");
  uint8_t* raw = nullptr;
  int32_t height = 0, width = 0;
  check(cbir_image_preprocess_file(&raw, &height, &width, image.c_str(), &opts));
  std::unique_ptr<uint8_t, void (*)(void*)> pixels(raw, cbir_free);

  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(out.c_str(), "wb"), std::fclose);
  const size_t bytes = static_cast<size_t>(height) * width * 3;
  if (!f || std::fwrite(pixels.get(), 1, bytes, f.get()) != bytes || std::fflush(f.get()) != 0)
    throw Failure("cannot write " + out);
  std::printf("%d %d\n", height, width);
  return 0;
}

}  // namespace cli
