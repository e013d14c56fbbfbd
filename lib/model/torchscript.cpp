#include "model/torchscript.hpp"

#include <cstring>
#include <filesystem>

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include "common/error.hpp"

namespace cbir::model {
namespace {

// The line of a LibTorch error that says what went wrong: c10::Error puts it first (a C++
// backtrace may follow), TorchScript's interpreter last (after the script's traceback).
std::string short_what(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  std::string s = c10 ? c10->what_without_backtrace() : e.what();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (c10) return s.substr(0, s.find('\n'));
  size_t nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

torch::Dtype dtype_of(Precision p) {
  switch (p) {
    case Precision::fp16: return torch::kHalf;
    case Precision::bf16: return torch::kBFloat16;
    default: return torch::kFloat;
  }
}

// Runs LibTorch's CPU autocast in bf16 for one scope on this thread (it is thread-local), with
// no cast cache: the weights it needs in bf16 are converted once, at load.
class CpuAutocastBf16 {
 public:
  explicit CpuAutocastBf16(bool on)
      : on_(on), was_(at::autocast::is_cpu_enabled()), dtype_(at::autocast::get_autocast_cpu_dtype()),
        cache_(at::autocast::is_autocast_cache_enabled()) {
    if (!on_) return;
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_autocast_cache_enabled(false);
  }
  ~CpuAutocastBf16() {
    if (!on_) return;
    at::autocast::set_cpu_enabled(was_);
    at::autocast::set_autocast_cpu_dtype(dtype_);
    at::autocast::set_autocast_cache_enabled(cache_);
  }
  CpuAutocastBf16(const CpuAutocastBf16&) = delete;
  CpuAutocastBf16& operator=(const CpuAutocastBf16&) = delete;

 private:
  bool on_, was_;
  at::ScalarType dtype_;
  bool cache_;
};

// Whether a TorchScript submodule is an nn.Linear (its class name, whatever mangling prefix).
bool is_linear(const torch::jit::Module& m) {
  const std::string name = m.type()->name() ? m.type()->name()->name() : "";
  return name == "Linear";
}

// One loaded TorchScript tower. forward() is safe to call from several threads at once:
// LibTorch's graph executors lock their own compilation, and inference reads only.
class Tower {
 public:
  // `mixed_bf16`: for bf16 on the CPU, only the Linear layers' weights become bf16 and
  // autocast runs each call: matrix products in bf16, the residual stream, LayerNorm and the
  // rest in fp32. Measured on a full-size RoBERTa-base text tower over the golden texts:
  // lowest centred cosine to fp32 0.99932 against 0.99860 for the whole tower in bf16, at the
  // same speed (26.4 against 26.9 ms a query). Image towers stay wholly bf16: they meet the goal
  // that way (0.99904) and the mixed scheme cost 10% of their speed.
  Tower(const std::string& path, const TorchScriptOptions& opts, const char* what,
        bool mixed_bf16 = false)
      : path_(path), what_(what), dim_(opts.dim), dtype_(dtype_of(opts.precision)) {
    if (opts.device.cuda) {
#ifdef CBIR_WITH_CUDA
      if (!torch::cuda::is_available())
        fail(CBIR_EUNSUPPORTED, "device " + opts.device.str() + ": no CUDA device is visible");
      if (opts.device.index >= static_cast<int>(torch::cuda::device_count()))
        fail(CBIR_EUNSUPPORTED, "device " + opts.device.str() + ": only " +
                                    std::to_string(torch::cuda::device_count()) +
                                    " CUDA devices are visible");
      device_ = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(opts.device.index));
#else
      fail(CBIR_EUNSUPPORTED, "device " + opts.device.str() +
                                  ": this cbir was built without CUDA (use device \"cpu\", or "
                                  "build against a CUDA LibTorch)");
#endif
    } else if (opts.precision != Precision::fp32 && opts.precision != Precision::bf16) {
      fail(CBIR_EUNSUPPORTED, std::string("precision ") + precision_name(opts.precision) +
                                  " does not run on the CPU; use fp32 or bf16");
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) fail(CBIR_ENOTFOUND, path + ": missing");
    try {
      module_ = torch::jit::load(path, device_);
    } catch (const std::exception& e) {
      fail(CBIR_ECORRUPT, path + ": not a TorchScript file this LibTorch (" TORCH_VERSION
                                 ") can load: " + short_what(e) +
                                 "; re-export the bundle with tools/export");
    }
    module_.eval();
    // bf16/fp16: the weights are converted once, here; the towers cast their input to their
    // weights' dtype and return float32 (tools/export).
    autocast_ = mixed_bf16 && !opts.device.cuda && dtype_ == torch::kBFloat16;
    if (autocast_) {
      for (const auto& sub : module_.named_modules()) {
        torch::jit::Module linear = sub.value;  // a handle on the same submodule
        if (is_linear(linear)) linear.to(torch::kBFloat16);
      }
      dtype_ = torch::kFloat;  // the input stays as it is; autocast casts per operation
    } else if (dtype_ != torch::kFloat) {
      module_.to(dtype_);
    }
  }

  // Runs the tower on `input` (already on the CPU, float or int64) and copies [n, dim] floats
  // to `out`.
  void run(const torch::Tensor& input, float* out) const {
    const int64_t n = input.size(0);
    try {
      c10::InferenceMode guard;
      CpuAutocastBf16 autocast(autocast_);
      torch::Tensor x = input;
      if (x.is_floating_point()) x = x.to(device_, dtype_);
      else if (device_.is_cuda()) x = x.to(device_);
      torch::IValue result = module_.forward({x});
      if (!result.isTensor())
        fail(CBIR_EMODEL, path_ + ": the " + what_ + " tower returned " + result.tagKind() +
                              ", not a tensor; re-export the bundle with tools/export");
      torch::Tensor y = result.toTensor();
      if (y.dim() != 2 || y.size(0) != n || y.size(1) != dim_ || !y.is_floating_point())
        fail(CBIR_EMODEL, path_ + ": the " + what_ + " tower returned " + describe(y) +
                              " for a batch of " + std::to_string(n) + ", expected float[" +
                              std::to_string(n) + ", " + std::to_string(dim_) +
                              "] (embed_dim in bundle.json); re-export the bundle");
      y = y.to(torch::kCPU, torch::kFloat).contiguous();
      std::memcpy(out, y.data_ptr<float>(), sizeof(float) * static_cast<size_t>(n * dim_));
    } catch (const Error&) {
      throw;
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {  // c10::Error, torch::jit::JITException
      std::string why = short_what(e);
      bool oom = why.find("out of memory") != std::string::npos ||
                 why.find("not enough memory") != std::string::npos;
      fail(oom ? CBIR_ENOMEM : CBIR_EMODEL,
           path_ + ": the " + what_ + " tower failed: " + why +
               (oom ? " (use a smaller batch_size)" : ""));
    }
  }

 private:
  static std::string describe(const torch::Tensor& y) {
    std::string s = std::string(c10::toString(y.scalar_type())) + "[";
    for (int64_t i = 0; i < y.dim(); ++i) s += (i ? ", " : "") + std::to_string(y.size(i));
    return s + "]";
  }

  std::string path_;
  std::string what_;
  int64_t dim_;
  torch::Dtype dtype_;
  torch::Device device_{torch::kCPU};
  bool autocast_ = false;
  mutable torch::jit::Module module_;  // forward() is not const, but inference reads only
};

// See ImageEncoder::keeps_first_plan(): PyTorch's oneDNN dynamic-quantised linear keeps the
// plan of its first call, for that input shape and thread count only.
bool keeps_first_plan_for(const TorchScriptOptions& opts) {
  return opts.int8 && at::globalContext().qEngine() == at::kONEDNN;
}

class TorchScriptImage final : public ImageEncoder {
 public:
  TorchScriptImage(const std::string& path, const TorchScriptOptions& opts)
      : tower_(path, opts, "image"), first_plan_(keeps_first_plan_for(opts)) {}
  bool keeps_first_plan() const override { return first_plan_; }
  void encode(const float* pixels, size_t n, int side, float* out) const override {
    auto x = torch::from_blob(const_cast<float*>(pixels),
                              {static_cast<int64_t>(n), 3, side, side}, torch::kFloat);
    tower_.run(x, out);
  }

 private:
  Tower tower_;
  bool first_plan_;
};

class TorchScriptText final : public TextEncoder {
 public:
  TorchScriptText(const std::string& path, const TorchScriptOptions& opts)
      : tower_(path, opts, "text", /*mixed_bf16=*/true), first_plan_(keeps_first_plan_for(opts)) {}
  bool keeps_first_plan() const override { return first_plan_; }
  void encode(const int64_t* ids, size_t n, int len, float* out) const override {
    auto x = torch::from_blob(const_cast<int64_t*>(ids), {static_cast<int64_t>(n), len},
                              torch::kLong);
    tower_.run(x, out);
  }

 private:
  Tower tower_;
  bool first_plan_;
};

}  // namespace

std::unique_ptr<ImageEncoder> load_torchscript_image(const std::string& path,
                                                     const TorchScriptOptions& opts) {
  return std::make_unique<TorchScriptImage>(path, opts);
}

std::unique_ptr<TextEncoder> load_torchscript_text(const std::string& path,
                                                   const TorchScriptOptions& opts) {
  return std::make_unique<TorchScriptText>(path, opts);
}

bool cuda_available() {
#ifdef CBIR_WITH_CUDA
  return torch::cuda::is_available();
#else
  return false;
#endif
}

}  // namespace cbir::model
