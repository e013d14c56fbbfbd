// The TorchScript backend: towers saved by tools/export with torch.jit.trace/script, run with
// LibTorch under c10::InferenceMode.
#pragma once

#include <memory>
#include <string>

#include "model/encoder.hpp"

namespace cbir::model {

struct TorchScriptOptions {
  Device device;
  Precision precision = Precision::fp32;
  int dim = 0;      // the bundle's embed_dim: every output must be [N, dim]
  bool int8 = false;  // the bundle was exported with --quantize int8 (dynamic quantisation)
};

// Load a tower from a TorchScript file. Throws CBIR_ENOTFOUND, CBIR_ECORRUPT (not a TorchScript
// file), CBIR_EUNSUPPORTED (CUDA or a precision this build/device cannot run).
std::unique_ptr<ImageEncoder> load_torchscript_image(const std::string& path,
                                                     const TorchScriptOptions& opts);
std::unique_ptr<TextEncoder> load_torchscript_text(const std::string& path,
                                                   const TorchScriptOptions& opts);

// Whether a CUDA device is usable from this process (false in CPU-only builds).
bool cuda_available();

}  // namespace cbir::model
