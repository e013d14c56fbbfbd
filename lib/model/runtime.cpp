#include "model/runtime.hpp"

#include <omp.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <algorithm>

#include <thread>

#include "common/error.hpp"

namespace cbir::model {

bool built_with_cuda() {
#ifdef CBIR_WITH_CUDA
  return true;
#else
  return false;
#endif
}

bool built_with_openmp() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

void set_threads(int n) {
  if (n > kMaxThreads)
    fail(CBIR_EINVAL, std::to_string(n) + " threads asked for; at most " + std::to_string(kMaxThreads) +
                          " (0 = one per core)");
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
  omp_set_num_threads(n);
}

int threads() { return at::get_num_threads(); }

std::string runtime_info() {
  std::string s = "LibTorch " TORCH_VERSION;
#ifdef CBIR_WITH_CUDA
  s += " (CUDA, " + std::to_string(torch::cuda::device_count()) + " devices)";
#else
  s += " (CPU)";
#endif
  s += "; threads " + std::to_string(at::get_num_threads());
  s += "; cores " + std::to_string(std::thread::hardware_concurrency());
  return s;
}

}  // namespace cbir::model
