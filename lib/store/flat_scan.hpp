// Exact inner-product search over a row-major matrix with BLAS (sgemv for one query, sgemm for
// several; FAISS's SSE loop for small blocks). FAISS 1.7.3's own flat search handles a single
// query with one core and SSE only; an optimized BLAS is 2-5x faster on the same data. Labels
// are row numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace faiss {
struct IDSelector;
}

namespace cbir::store {

// The k best rows for each of `nq` queries, best first; rows rejected by `sel` (when given) are
// skipped. Unfilled slots get label -1 and score -INFINITY.
void flat_knn(const float* x, size_t n, size_t dim, const float* queries, size_t nq, size_t k,
              const faiss::IDSelector* sel, float* scores, int64_t* labels);

// Every row scoring at least `min_score` against `query`, best first.
std::vector<std::pair<float, int64_t>> flat_range(const float* x, size_t n, size_t dim,
                                                  const float* query, float min_score,
                                                  const faiss::IDSelector* sel);

}  // namespace cbir::store
