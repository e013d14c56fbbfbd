// Vectors enter the collection normalized: callers may pass any finite, non-zero vector and
// cbir stores (and searches with) its unit-length version, so scores are cosine similarities.
#pragma once

#include <cstddef>
#include <vector>

namespace cbir::store {

// Copies `n` vectors of `dim` into `out` scaled to unit length. CBIR_EINVAL names the first
// vector holding NaN/Inf or only zeros (`what` says whose: "vector", "query").
void normalized_copy(const float* in, size_t n, size_t dim, std::vector<float>& out,
                     const char* what);

}  // namespace cbir::store
