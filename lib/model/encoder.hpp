// What the rest of the library needs from a model backend: two towers that turn a batch into
// rows of floats. TorchScript (torchscript.hpp) is the one backend today; another (ONNX Runtime,
// say) would implement the same two classes. Batching, L2-normalisation and output checks are
// done once, above this interface, by Model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cbir::model {

// What the towers compute in. `automatic` is a request only (ModelOptions): Model::open resolves
// it to bf16 on a CPU with native bf16 (cpu_features.hpp), else to fp32 (fp16 for an fp16 bundle).
enum class Precision { fp32, fp16, bf16, automatic };

inline const char* precision_name(Precision p) {
  switch (p) {
    case Precision::fp16: return "fp16";
    case Precision::bf16: return "bf16";
    case Precision::automatic: return "auto";
    default: return "fp32";
  }
}

// Where a model runs: the CPU, or CUDA device `index`.
struct Device {
  bool cuda = false;
  int index = 0;
  std::string str() const { return cuda ? "cuda:" + std::to_string(index) : "cpu"; }
};

// keeps_first_plan(), on both towers: true when the backend is fast only for the input shape
// of its first call and re-plans on every other call. LibTorch's int8 layers on oneDNN (Debian's
// LibTorch has no FBGEMM) cache one plan per layer, made at the first call; any other row count
// builds new kernels every time (a ViT-B-16 text query: 27 ms against 90-140 ms). Model then
// makes the first call with the shape that matters (a full batch of images; one text padded to
// the context length) and pads every text to the context length.
class ImageEncoder {
 public:
  virtual ~ImageEncoder() = default;
  virtual bool keeps_first_plan() const { return false; }
  // n preprocessed images, each 3 x side x side floats (CHW, normalised) -> out[n * dim],
  // not normalised. Throws cbir::Error (CBIR_EMODEL) when the model fails or returns a
  // tensor of the wrong shape.
  virtual void encode(const float* pixels, size_t n, int side, float* out) const = 0;
};

class TextEncoder {
 public:
  virtual ~TextEncoder() = default;
  // n rows of `len` token ids, padded with 0 -> out[n * dim], not normalised.
  virtual void encode(const int64_t* ids, size_t n, int len, float* out) const = 0;
  virtual bool keeps_first_plan() const { return false; }
};

}  // namespace cbir::model
