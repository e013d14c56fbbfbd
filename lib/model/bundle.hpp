// A model bundle: a folder with bundle.json and the files it names (docs/bundle.md).
// read_bundle() validates everything it can without running a model and fails with a
// cbir::Error naming the file, the field and what to do.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <optional>
#include <string>

#include "image/image.hpp"

namespace cbir::model {

constexpr int kBundleFormatVersion = 1;

struct ImageTower {
  std::string file;     // TorchScript: float32[N,3,S,S] -> float32[N,D]
  std::string pooling;  // DINOv2: cls | mean_patch | mean_all; "" when the bundle names none
  image::Recipe preprocess;
};

struct TextTower {
  std::string file;  // TorchScript: int64[N,L] -> float32[N,D], L <= context_length
  std::string vocab;
  int context_length = 52;
  bool lower_case = true;
};

struct BundleFile {
  std::string sha256;  // lower-case hex
  uint64_t bytes = 0;
};

struct Bundle {
  std::string dir;
  std::string name, family, precision;  // precision: fp32 | int8 | fp16
  std::string fingerprint;              // "sha256:<hex>"
  int embed_dim = 0;
  float logit_scale = 0;  // exp() applied; 0 when absent (no zero-shot classification)
  std::map<std::string, BundleFile> files;
  std::optional<ImageTower> image;
  std::optional<TextTower> text;
  std::string source_architecture, source_checkpoint;  // informational

  std::string path(const std::string& file) const { return dir + "/" + file; }
};

// Reads and checks `dir`/bundle.json: format and version, every field's type and range, that
// every named file exists with the recorded size (and, with verify_hashes, sha256), and that
// the fingerprint matches. Errors: CBIR_ENOTFOUND (folder or file missing), CBIR_ECORRUPT (bad
// JSON, field, size, hash or fingerprint), CBIR_EUNSUPPORTED (newer format_version, unknown
// tokenizer or resize method).
Bundle read_bundle(const std::string& dir, bool verify_hashes);

// Checks each listed file's sha256 against bundle.json, except those in `skip` (the files of a
// tower left unloaded). CBIR_ECORRUPT naming the file that differs.
void check_hashes(const Bundle& b, const std::set<std::string>& skip);

// The fingerprint bundle.json should carry, computed from its own contents (docs/bundle.md).
std::string bundle_fingerprint(const std::string& bundle_json_text);

}  // namespace cbir::model
