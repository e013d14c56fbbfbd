// A loaded model bundle: its towers, its tokenizer and its preprocessing recipe. This is what
// lib/ingest and lib/c_api use; it batches, trims text to its real length, L2-normalises and
// checks every output, whatever backend runs the towers.
//
// Thread safety: every const method may be called from several threads at once on one Model
// (the towers are read-only during inference; see torchscript.cpp).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "image/image.hpp"
#include "model/bundle.hpp"
#include "model/encoder.hpp"
#include "text/tokenizer.hpp"

namespace cbir::model {

struct ModelOptions {
  std::string device = "auto";  // cpu | cuda | cuda:N | auto (CUDA when usable, else the CPU)
  // fp16: CUDA only; bf16: CUDA, or a CPU with native bf16; automatic: bf16 on such a CPU, the
  // bundle's own precision everywhere else.
  Precision precision = Precision::fp32;
  int threads = 0;       // > 0: LibTorch intra-op threads for the whole process; 0: unchanged
  int batch_size = 8;    // items per forward pass
  bool verify_hashes = true;  // check each file's sha256 against bundle.json
  bool image = true, text = true;  // towers to load (a tower not loaded is not hashed either)
};

// "cpu", "cuda", "cuda:N" -> Device; "auto" -> CUDA device 0 when usable, else the CPU.
// Throws CBIR_EINVAL for anything else.
Device parse_device(const std::string& text);

class Model {
 public:
  // Reads and validates the bundle, loads its towers and tokenizer, and runs each tower once
  // on a tiny input (shape, finiteness, padded-vs-trimmed text). Errors: see read_bundle(),
  // CBIR_EUNSUPPORTED (CUDA/precision not available), CBIR_EMODEL (a tower fails its warm-up).
  static std::shared_ptr<const Model> open(const std::string& dir, const ModelOptions& opts = {});

  const Bundle& bundle() const { return bundle_; }
  int dim() const { return bundle_.embed_dim; }
  bool has_image() const { return image_ != nullptr; }
  bool has_text() const { return text_ != nullptr; }
  const Device& device() const { return device_; }
  // What the towers compute in: "fp32", "bf16", "fp16", or "int8" (an int8 bundle: int8 matrix
  // products, fp32 elsewhere).
  const char* compute_precision() const {
    return bundle_.precision == "int8" ? "int8" : precision_name(precision_);
  }
  int batch_size() const { return batch_size_; }

  // The image tower's preprocessing and the side of the square it takes. CBIR_EUNSUPPORTED
  // when the bundle has no image tower.
  const image::Recipe& recipe() const;
  int image_side() const { return recipe().output_side(); }
  // The bundle's tokenizer. CBIR_EUNSUPPORTED when the bundle has no text tower.
  const text::Tokenizer& tokenizer() const;
  int context_length() const;

  // n preprocessed images (each 3 x side x side floats, image::normalize_chw's layout) ->
  // out[n * dim], each row L2-normalised.
  void embed_images(const float* pixels, size_t n, float* out) const;
  // n rows of `len` token ids (len <= context_length, padded with 0) -> out[n * dim], as given.
  void embed_token_ids(const int64_t* ids, size_t n, int len, float* out) const;
  // Tokenises and embeds; each batch is trimmed to its longest text (unless the tower
  // keeps_first_plan()). CBIR_EINVAL on bad UTF-8.
  void embed_texts(const std::vector<std::string_view>& texts, float* out) const;
  // Zero-shot classification: softmax over labels of logit_scale * cosine(image, label).
  // image_embedding has dim floats. CBIR_EUNSUPPORTED without a text tower or logit_scale.
  void classify(const float* image_embedding, const std::vector<std::string_view>& labels,
                float* probs) const;

 private:
  Model() = default;
  void finish(float* rows, size_t n, const char* tower) const;
  void warm_up(bool exact) const;

  Bundle bundle_;
  Device device_;
  Precision precision_ = Precision::fp32;
  int batch_size_ = 8;
  std::unique_ptr<ImageEncoder> image_;
  std::unique_ptr<TextEncoder> text_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
};

}  // namespace cbir::model
