// Near-duplicate groups: items whose vectors score at least a threshold against each other,
// joined transitively (A~B and B~C put A, B, C in one group), found with one k-NN search per
// item through the collection's index: memory grows with the number of items, never its square.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/collection.hpp"

namespace cbir::query {

// Groups of two or more ids: group g is ids[offsets[g] .. offsets[g + 1]), ids ascending in
// each group, groups ordered by their first id.
struct DuplicateGroups {
  std::vector<int64_t> ids;
  std::vector<size_t> offsets{0};
  size_t count() const { return offsets.size() - 1; }
};

// Each item's kNeighbours nearest neighbours are looked at; a pair scoring >= min_score joins
// their groups. `filter` limits both the items and their neighbours. `progress(done, total)`
// (optional) is called after each batch; returning false stops early with what was found.
// `space`: the vector space compared in ("": the first); items without a vector there are
// left out.
constexpr size_t kNeighbours = 64;
DuplicateGroups find_duplicates(store::Collection& coll, float min_score,
                                const store::SearchFilter& filter, const store::SearchKnobs& knobs,
                                const std::function<bool(size_t, size_t)>& progress = nullptr,
                                const std::string& space = {});

}  // namespace cbir::query
