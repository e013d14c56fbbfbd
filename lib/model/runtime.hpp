// Process-wide compute runtime: threads and what this build of LibTorch/FAISS can do.
#pragma once

#include <string>

namespace cbir::model {

bool built_with_cuda();
bool built_with_openmp();
// Sets LibTorch intra-op and OpenMP threads; 0 = one per core.
void set_threads(int threads);
int threads();
// "LibTorch 1.13.1 (CUDA: no); FAISS ...; threads N; cores M"
std::string runtime_info();

}  // namespace cbir::model
