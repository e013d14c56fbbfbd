// Composite queries: one query vector from several parts (texts, images, items, vectors), each
// weighted, negative weights subtracting ("a dog" + "beach" - "people").
#pragma once

#include <cstddef>
#include <vector>

namespace cbir::query {

// normalize(sum_i weights[i] * normalize(parts[i])) into out[dim]. Every weight must be finite
// and every part finite and non-zero; CBIR_EINVAL (naming the part) otherwise, and when the
// weighted parts cancel out (the sum's norm is under 1e-6 of the weights' sum of magnitudes).
void weighted_sum(const std::vector<const float*>& parts, const std::vector<float>& weights,
                  size_t dim, float* out);

}  // namespace cbir::query
