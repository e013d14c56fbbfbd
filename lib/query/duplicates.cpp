#include "query/duplicates.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.hpp"

namespace cbir::query {
namespace {

// Union-find over positions 0..n-1, with path halving and union by size.
class Groups {
 public:
  explicit Groups(size_t n) : parent_(n), size_(n, 1) { std::iota(parent_.begin(), parent_.end(), 0u); }
  uint32_t find(uint32_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void join(uint32_t a, uint32_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return;
    if (size_[a] < size_[b]) std::swap(a, b);
    parent_[b] = a;
    size_[a] += size_[b];
  }
  uint32_t size(uint32_t root) const { return size_[root]; }

 private:
  std::vector<uint32_t> parent_, size_;
};

constexpr size_t kBatch = 256;  // queries per search call: one GEMM for flat indexes

}  // namespace

DuplicateGroups find_duplicates(store::Collection& coll, float min_score,
                                const store::SearchFilter& filter, const store::SearchKnobs& knobs,
                                const std::function<bool(size_t, size_t)>& progress,
                                const std::string& space) {
  if (!std::isfinite(min_score)) fail(CBIR_EINVAL, "the duplicate threshold must be finite");
  // The items looked at, ascending: the filter's, or every item.
  std::vector<int64_t> items;
  store::SearchFilter within;
  if (auto allowed = coll.allowed_ids(filter)) {
    items = std::move(*allowed);
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    within.ids = items;
  } else {
    for (int64_t after = -1;;) {
      const auto page = coll.ids_after(after, 65536);
      if (page.empty()) break;
      items.insert(items.end(), page.begin(), page.end());
      after = page.back();
    }
  }
  const size_t n = items.size();
  if (n > UINT32_MAX) fail(CBIR_EUNSUPPORTED, "duplicate groups over more than 4 billion items");
  auto position = [&](int64_t id) -> int64_t {
    auto it = std::lower_bound(items.begin(), items.end(), id);
    return it != items.end() && *it == id ? it - items.begin() : -1;
  };
  const size_t dim = static_cast<size_t>(coll.space(space).dim);
  const size_t k = std::min(kNeighbours + 1, std::max<size_t>(n, 1));  // +1: the item itself
  Groups groups(n);
  std::vector<float> queries(kBatch * dim), scores(kBatch * k);
  std::vector<int64_t> found(kBatch * k);
  for (size_t start = 0; start < n; start += kBatch) {
    const size_t nq = std::min(kBatch, n - start);
    size_t got = 0;
    std::vector<int64_t> asked;
    for (size_t i = 0; i < nq; ++i)  // an item removed meanwhile is skipped
      if (coll.vector(items[start + i], queries.data() + got * dim, dim, space)) {
        asked.push_back(items[start + i]);
        ++got;
      }
    if (got > 0)
      coll.search(queries.data(), got, dim, k, within, min_score, knobs, scores.data(), found.data(), space);
    for (size_t q = 0; q < got; ++q) {
      const int64_t me = position(asked[q]);
      for (size_t j = 0; j < k; ++j) {
        const int64_t other = found[q * k + j];
        if (other < 0) break;  // padding: no more results at or above min_score
        const int64_t at = position(other);
        if (at >= 0 && at != me) groups.join(static_cast<uint32_t>(me), static_cast<uint32_t>(at));
      }
    }
    if (progress && !progress(start + nq, n)) break;
  }
  // Members of each group in id order (items are ascending), groups by their first member.
  std::vector<std::vector<int64_t>> by_root;
  std::vector<int64_t> slot(n, -1);
  DuplicateGroups out;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t root = groups.find(static_cast<uint32_t>(i));
    if (groups.size(root) < 2) continue;
    if (slot[root] < 0) {
      slot[root] = static_cast<int64_t>(by_root.size());
      by_root.emplace_back();
    }
    by_root[static_cast<size_t>(slot[root])].push_back(items[i]);
  }
  for (const auto& g : by_root) {
    out.ids.insert(out.ids.end(), g.begin(), g.end());
    out.offsets.push_back(out.ids.size());
  }
  return out;
}

}  // namespace cbir::query
