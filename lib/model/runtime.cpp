#include "model/runtime.hpp"

#include <dlfcn.h>
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

namespace {

// OpenBLAS (libopenblas0-pthread, which scripts/setup installs) keeps a thread pool of its own
// beside OpenMP's, sized to the cores: without this, "one thread" still ran the exact search's
// sgemv on every core. Looked up at run time so that any BLAS links; others follow OpenMP or
// run single-threaded.
template <class Fn>
Fn openblas(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

void set_threads(int n) {
  if (n > kMaxThreads)
    fail(CBIR_EINVAL, std::to_string(n) + " threads asked for; at most " + std::to_string(kMaxThreads) +
                          " (0 = one per core)");
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
  omp_set_num_threads(n);
  if (auto set_blas = openblas<void (*)(int)>("openblas_set_num_threads")) set_blas(n);
}

void set_model_threads(int n, bool blas_gemm) {
  set_threads(n);  // checks n
  if (blas_gemm) {
    at::set_num_threads(1);
    omp_set_num_threads(1);
  } else if (auto set_blas = openblas<void (*)(int)>("openblas_set_num_threads")) {
    set_blas(1);
  }
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
  if (auto get_blas = openblas<int (*)()>("openblas_get_num_threads"))
    s += " (OpenBLAS " + std::to_string(get_blas()) + ")";
  s += "; cores " + std::to_string(std::thread::hardware_concurrency());
  return s;
}

}  // namespace cbir::model
