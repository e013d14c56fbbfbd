#include "model/runtime.hpp"

#include <dlfcn.h>
#include <omp.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <algorithm>

#include <thread>

#include "common/error.hpp"
#include "model/cpu_features.hpp"

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

namespace {

int checked_count(int n) {
  if (n > kMaxThreads)
    fail(CBIR_EINVAL, std::to_string(n) + " threads asked for; at most " + std::to_string(kMaxThreads) +
                          " (0 = one per core)");
  return n <= 0 ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) : n;
}

void size_pools(int omp_threads, int blas_threads) {
  at::set_num_threads(omp_threads);
  omp_set_num_threads(omp_threads);
  if (auto set_blas = openblas<void (*)(int)>("openblas_set_num_threads")) set_blas(blas_threads);
}

}  // namespace

void set_threads(int n) {
  n = checked_count(n);
  size_pools(n, n);
}

void set_model_threads(int n, bool blas_gemm) {
  n = checked_count(n);
  size_pools(blas_gemm ? 1 : n, blas_gemm ? n : 1);
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
  const std::string cpu = cpu_features_string();
  s += "; CPU: " + (cpu.empty() ? std::string("none of avx2/avx512/amx") : cpu);
  s += cpu_native_bf16() ? " (bf16 native: auto precision is bf16)" : " (no native bf16: auto precision is fp32)";
  return s;
}

}  // namespace cbir::model
