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
int threads();
// "LibTorch 1.13.1 (CUDA: no); FAISS ...; threads N; cores M"
std::string runtime_info();

}  // namespace cbir::model
