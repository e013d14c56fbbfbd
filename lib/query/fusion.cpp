#include "query/fusion.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include "common/error.hpp"

namespace cbir::query {
namespace {

void check_weights(const std::vector<Ranking>& lists, const std::vector<float>& weights) {
  if (weights.size() != lists.size())
    fail(CBIR_EINVAL, "fusion: " + std::to_string(weights.size()) + " weights for " +
                          std::to_string(lists.size()) + " rankings");
  for (size_t i = 0; i < weights.size(); ++i)
    if (!std::isfinite(weights[i]) || weights[i] < 0)
      fail(CBIR_EINVAL, "fusion: weight " + std::to_string(i) + " must be finite and >= 0");
}

// The best `top` of the fused scores, best first, equal scores by id.
Ranking best(const std::unordered_map<int64_t, double>& fused, size_t top) {
  Ranking out;
  out.reserve(fused.size());
  for (const auto& [id, score] : fused) out.push_back({id, static_cast<float>(score)});
  auto better = [](const Ranked& a, const Ranked& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  };
  if (out.size() > top) {
    std::partial_sort(out.begin(), out.begin() + static_cast<long>(top), out.end(), better);
    out.resize(top);
  } else {
    std::sort(out.begin(), out.end(), better);
  }
  return out;
}

}  // namespace

Ranking fuse_rrf(const std::vector<Ranking>& lists, const std::vector<float>& weights, int k,
                 size_t top) {
  check_weights(lists, weights);
  if (k < 1) fail(CBIR_EINVAL, "fusion: the RRF constant k must be at least 1");
  std::unordered_map<int64_t, double> fused;
  for (size_t l = 0; l < lists.size(); ++l)
    for (size_t r = 0; r < lists[l].size(); ++r)
      fused[lists[l][r].id] += weights[l] / (k + static_cast<double>(r + 1));
  return best(fused, top);
}

Ranking fuse_weighted(const std::vector<Ranking>& lists, const std::vector<float>& weights,
                      size_t top) {
  check_weights(lists, weights);
  std::unordered_map<int64_t, double> fused;
  for (const Ranking& list : lists)
    for (const Ranked& r : list) fused.emplace(r.id, 0.0);
  for (size_t l = 0; l < lists.size(); ++l) {
    std::unordered_map<int64_t, float> in;
    float lowest = 0;
    for (const Ranked& r : lists[l]) {
      in.emplace(r.id, r.score);
      lowest = in.size() == 1 ? r.score : std::min(lowest, r.score);
    }
    for (auto& [id, score] : fused) {
      auto it = in.find(id);
      score += weights[l] * static_cast<double>(it != in.end() ? it->second : lowest);
    }
  }
  return best(fused, top);
}

Ranking rerank(const Ranking& candidates,
               const std::function<std::optional<float>(int64_t)>& score_of, size_t top) {
  std::unordered_map<int64_t, double> scored;
  for (const Ranked& c : candidates)
    if (auto s = score_of(c.id)) scored[c.id] = *s;
  return best(scored, top);
}

}  // namespace cbir::query
