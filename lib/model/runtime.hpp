// Process-wide compute runtime: threads and what this build of LibTorch/FAISS can do.
#pragma once

#include <string>

namespace cbir::model {

bool built_with_cuda();
bool built_with_openmp();
// More is refused: LibTorch sizes its thread pool up front (INT32_MAX threads would ask for
// 128 GiB), and no machine cbir runs on has that many cores.
constexpr int kMaxThreads = 4096;
// Sets LibTorch intra-op, OpenMP and OpenBLAS threads; 0 = one per core. CBIR_EINVAL above kMaxThreads.
void set_threads(int threads);
// A CPU model's share of `threads` (> 0): OpenMP's threads, which spin for a while after each
// parallel region, and OpenBLAS's pool fight when both are sized to the cores. With both at 2
// here, an fp32 RoBERTa-base query took 185 ms instead of 47 and ViT-B-16 ran 3.56 images/s
// instead of 4.25 (bench/README.md, "Threads"). So one pool gets `threads` and the other 1:
// fp32 spends its time in OpenBLAS's sgemm (`blas_gemm`), int8 in oneDNN, which runs on OpenMP.
void set_model_threads(int threads, bool blas_gemm);
int threads();
// "LibTorch 1.13.1 (CUDA: no); FAISS ...; threads N; cores M"
std::string runtime_info();

}  // namespace cbir::model
