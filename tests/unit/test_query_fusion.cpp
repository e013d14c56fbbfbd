// Fusion of several spaces' rankings (lib/query/fusion): reciprocal rank fusion, weighted score
// fusion and re-ranking, against references computed here by the definitions over the union of
// ids, on random rankings.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "common/error.hpp"
#include "query/fusion.hpp"

using cbir::query::Ranked;
using cbir::query::Ranking;

namespace {

Ranking random_ranking(std::mt19937& rng, size_t n, int64_t universe) {
  std::set<int64_t> ids;
  std::uniform_int_distribution<int64_t> pick(0, universe - 1);
  while (ids.size() < n) ids.insert(pick(rng));
  std::vector<int64_t> order(ids.begin(), ids.end());
  std::shuffle(order.begin(), order.end(), rng);
  Ranking r;
  float score = 0.9f;
  std::uniform_real_distribution<float> step(0.0f, 0.02f);
  for (int64_t id : order) r.push_back({id, score -= step(rng)});
  return r;
}

// The definitions, over the union of ids, then sorted: best first, equal scores by id.
Ranking reference(const std::vector<Ranking>& lists, const std::function<double(int64_t)>& score,
                  size_t top) {
  std::set<int64_t> all;
  for (const auto& l : lists)
    for (const auto& r : l) all.insert(r.id);
  std::vector<std::pair<double, int64_t>> scored;
  for (int64_t id : all) scored.push_back({score(id), id});
  std::sort(scored.begin(), scored.end(), [](auto& a, auto& b) {
    return float(a.first) != float(b.first) ? float(a.first) > float(b.first) : a.second < b.second;
  });
  Ranking out;
  for (size_t i = 0; i < std::min(top, scored.size()); ++i)
    out.push_back({scored[i].second, float(scored[i].first)});
  return out;
}

void same(const Ranking& got, const Ranking& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("rank " << i);
    CHECK(got[i].id == want[i].id);
    CHECK(got[i].score == Approx(want[i].score).epsilon(1e-6));
  }
}

}  // namespace

TEST_CASE("reciprocal rank fusion and weighted score fusion follow their definitions") {
  std::mt19937 rng(17);
  for (int round = 0; round < 50; ++round) {
    const size_t n_lists = 1 + round % 3;
    std::vector<Ranking> lists;
    std::vector<float> weights;
    for (size_t l = 0; l < n_lists; ++l) {
      lists.push_back(random_ranking(rng, 5 + rng() % 30, 60));
      weights.push_back(round % 4 == 0 ? 1.0f : 0.25f + float(rng() % 8) / 4);
    }
    const size_t top = 1 + rng() % 40;
    const int k = round % 5 == 0 ? 1 : 60;
    auto rank_in = [](const Ranking& l, int64_t id) -> std::optional<size_t> {
      for (size_t r = 0; r < l.size(); ++r)
        if (l[r].id == id) return r + 1;
      return std::nullopt;
    };
    same(cbir::query::fuse_rrf(lists, weights, k, top), reference(lists, [&](int64_t id) {
           double s = 0;
           for (size_t l = 0; l < lists.size(); ++l)
             if (auto r = rank_in(lists[l], id)) s += weights[l] / (k + double(*r));
           return s;
         }, top));
    same(cbir::query::fuse_weighted(lists, weights, top), reference(lists, [&](int64_t id) {
           double s = 0;
           for (size_t l = 0; l < lists.size(); ++l) {
             auto r = rank_in(lists[l], id);
             s += weights[l] * double(r ? lists[l][*r - 1].score : lists[l].back().score);
           }
           return s;
         }, top));
  }
}

TEST_CASE("fusion: a known case, re-ranking, and bad weights") {
  const Ranking clip = {{1, 0.9f}, {2, 0.8f}, {3, 0.7f}};
  const Ranking dino = {{3, 0.95f}, {4, 0.5f}};
  // RRF, k = 60: 3 is third in one list and first in the other, so it leads.
  const Ranking rrf = cbir::query::fuse_rrf({clip, dino}, {1, 1}, 60, 10);
  REQUIRE(rrf.size() == 4);
  CHECK(rrf[0].id == 3);
  CHECK(rrf[0].score == Approx(1.0 / 63 + 1.0 / 61));
  CHECK(rrf[1].id == 1);
  // Re-ranking clip's candidates by dino's scores: those dino lacks are dropped.
  const Ranking re = cbir::query::rerank(clip, [&](int64_t id) -> std::optional<float> {
    for (const auto& r : dino)
      if (r.id == id) return r.score;
    if (id == 1) return 0.1f;
    return std::nullopt;
  }, 10);
  REQUIRE(re.size() == 2);
  CHECK(re[0].id == 3);
  CHECK(re[1].id == 1);
  CHECK(cbir::query::fuse_rrf({}, {}, 60, 5).empty());
  for (float w : {-1.0f, float(NAN), float(INFINITY)}) {
    INFO(w);
    CHECK_THROWS_AS(cbir::query::fuse_rrf({clip}, {w}, 60, 5), cbir::Error);
    CHECK_THROWS_AS(cbir::query::fuse_weighted({clip}, {w}, 5), cbir::Error);
  }
  CHECK_THROWS_AS(cbir::query::fuse_rrf({clip, dino}, {1}, 60, 5), cbir::Error);
  CHECK_THROWS_AS(cbir::query::fuse_rrf({clip}, {1}, 0, 5), cbir::Error);
}
