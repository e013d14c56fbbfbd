// Fusing the rankings of several vector spaces (issue 20: Chinese-CLIP and DINOv2 over one
// catalog): reciprocal rank fusion, weighted score fusion, and re-ranking one space's
// candidates by another's scores. Pure functions over ranked lists; the spaces' searches are
// the caller's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace cbir::query {

struct Ranked {
  int64_t id;
  float score;
};
using Ranking = std::vector<Ranked>;  // best first, each id once

// Reciprocal rank fusion: score(d) = sum over lists of weight / (k + rank of d), ranks from 1;
// a list without d adds nothing. The top results, best first; equal scores by id.
// CBIR_EINVAL for k < 1, a weight that is negative or not finite, or weights.size() differing
// from lists.size().
Ranking fuse_rrf(const std::vector<Ranking>& lists, const std::vector<float>& weights, int k,
                 size_t top);

// Weighted score fusion: score(d) = sum over lists of weight * (d's score in it, or, where the
// list lacks d, the lowest score that list returned: d ranked below all it returned). Scores
// are cosines of one scale in every space, so no normalisation is applied.
Ranking fuse_weighted(const std::vector<Ranking>& lists, const std::vector<float>& weights,
                      size_t top);

// Re-ranking: the candidates ordered by `score_of` (another space's score of the id, e.g. its
// exact cosine; nullopt drops the candidate), best first, the top ones.
Ranking rerank(const Ranking& candidates,
               const std::function<std::optional<float>(int64_t)>& score_of, size_t top);

}  // namespace cbir::query
