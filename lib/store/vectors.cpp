#include "store/vectors.hpp"

#include <cmath>
#include <string>

#include "common/error.hpp"

namespace cbir::store {

void normalized_copy(const float* in, size_t n, size_t dim, std::vector<float>& out,
                     const char* what) {
  out.resize(n * dim);
  for (size_t i = 0; i < n; ++i) {
    const float* v = in + i * dim;
    double sum = 0;
    for (size_t j = 0; j < dim; ++j) sum += static_cast<double>(v[j]) * v[j];
    if (!std::isfinite(sum))
      fail(CBIR_EINVAL, std::string(what) + " " + std::to_string(i) +
                            " holds NaN or infinite values (or overflows); pass finite floats");
    if (sum == 0)
      fail(CBIR_EINVAL, std::string(what) + " " + std::to_string(i) +
                            " is all zeros and has no direction; it cannot be searched");
    const float scale = static_cast<float>(1.0 / std::sqrt(sum));
    float* o = out.data() + i * dim;
    for (size_t j = 0; j < dim; ++j) o[j] = v[j] * scale;
  }
}

}  // namespace cbir::store
