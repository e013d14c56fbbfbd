#include "query/compose.hpp"

#include <cmath>
#include <string>

#include "common/error.hpp"

namespace cbir::query {

void weighted_sum(const std::vector<const float*>& parts, const std::vector<float>& weights,
                  size_t dim, float* out) {
  require(parts.size() == weights.size(), "one weight per part");
  if (parts.empty()) fail(CBIR_EINVAL, "a composite query needs at least one part");
  std::vector<double> sum(dim, 0.0);
  double magnitude = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string name = "part " + std::to_string(i);
    if (!std::isfinite(weights[i])) fail(CBIR_EINVAL, name + ": the weight must be finite");
    double norm = 0;
    for (size_t d = 0; d < dim; ++d) norm += double(parts[i][d]) * parts[i][d];
    if (!std::isfinite(norm) || norm == 0)
      fail(CBIR_EINVAL, name + ": its vector is all zeros or not finite");
    const double scale = weights[i] / std::sqrt(norm);
    for (size_t d = 0; d < dim; ++d) sum[d] += scale * parts[i][d];
    magnitude += std::fabs(weights[i]);
  }
  double norm = 0;
  for (double v : sum) norm += v * v;
  norm = std::sqrt(norm);
  if (!(norm > 1e-6 * magnitude))
    fail(CBIR_EINVAL, "the parts of the query cancel out (their weighted sum is zero); change "
                      "the weights or the parts");
  for (size_t d = 0; d < dim; ++d) out[d] = static_cast<float>(sum[d] / norm);
}

}  // namespace cbir::query
