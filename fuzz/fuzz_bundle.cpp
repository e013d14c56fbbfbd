// bundle.json parsing and checking (lib/model/bundle.cpp; no TorchScript is loaded). The input
// is bundle.json in a folder that also holds three small files a bundle may name. Each input is
// read twice: as given, and with its "fingerprint" corrected, so that the checks behind the
// fingerprint (file names, sizes, hashes) are reached too. Any input must give a Bundle or a
// cbir::Error; nothing else may escape.
#include <cmath>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/bundle.hpp"
#include "fuzz_util.hpp"

namespace {

std::string g_dir;

void read(const std::string& text) {
  cbir::fuzz::write_file(g_dir + "/bundle.json", text);
  try {
    cbir::model::Bundle b = cbir::model::read_bundle(g_dir, true);
    if (!b.image && !b.text) __builtin_trap();
    if (b.embed_dim < 1) __builtin_trap();
    // Every number it accepts is usable as the float the model code reads it into.
    if (!std::isfinite(b.logit_scale)) __builtin_trap();
    if (b.image)
      for (int c = 0; c < 3; ++c)
        if (!std::isfinite(b.image->preprocess.mean[c]) || !std::isfinite(b.image->preprocess.std[c]) ||
            !(b.image->preprocess.std[c] > 0))
          __builtin_trap();
  } catch (const cbir::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_dir = cbir::fuzz::scratch_dir();
  // Files a fuzzed bundle.json can name: sha256("x") is
  // 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881, 1 byte.
  for (const char* name : {"image.pt", "text.pt", "vocab.txt"})
    cbir::fuzz::write_file(g_dir + "/" + name, "x");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  read(text);

  // bundle_fingerprint() is a helper for well-formed documents (tests, tools), so its own
  // failures on malformed ones are not findings.
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object()) return 0;
  std::string fixed;
  try {
    doc["fingerprint"] = cbir::model::bundle_fingerprint(text);
    fixed = doc.dump();
  } catch (const std::exception&) {
    return 0;
  }
  read(fixed);
  return 0;
}
