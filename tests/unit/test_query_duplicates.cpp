// Near-duplicate groups (cbir_collection_duplicates): the groups equal those of a reference
// computed here over every pair (transitive closure of "scores >= threshold"), for flat and
// hnsw indexes, with filters, and with a group larger than the neighbours looked at per item.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "test_store_util.hpp"

using namespace store_test;

namespace {

constexpr size_t kDim = 32;
using GroupSet = std::set<std::set<int64_t>>;

// Random items, and copies of some of them nudged a little (cos ~0.999): the duplicates.
std::vector<float> with_copies(size_t bases, const std::vector<size_t>& copies, uint32_t seed) {
  auto v = unit_vectors(bases, kDim, seed);
  std::mt19937 rng(seed + 1);
  std::normal_distribution<float> noise(0.f, 0.01f);
  for (size_t b = 0; b < copies.size(); ++b)
    for (size_t c = 0; c < copies[b]; ++c)
      for (size_t d = 0; d < kDim; ++d) v.push_back(v[b * kDim + d] + noise(rng));
  return v;
}

GroupSet reference(const std::vector<int64_t>& ids, const std::vector<float>& vecs, float threshold,
                   const std::set<int64_t>* only = nullptr) {
  const size_t n = ids.size();
  std::vector<size_t> parent(n);
  for (size_t i = 0; i < n; ++i) parent[i] = i;
  std::function<size_t(size_t)> find = [&](size_t x) { return parent[x] == x ? x : parent[x] = find(parent[x]); };
  auto unit = [&](size_t i) {
    std::vector<float> u(vecs.begin() + long(i * kDim), vecs.begin() + long((i + 1) * kDim));
    float norm = std::sqrt(dot(u.data(), u.data(), kDim));
    for (float& x : u) x /= norm;
    return u;
  };
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      if (only && (!only->count(ids[i]) || !only->count(ids[j]))) continue;
      const auto a = unit(i), b = unit(j);
      if (dot(a.data(), b.data(), kDim) >= threshold) parent[find(i)] = find(j);
    }
  std::map<size_t, std::set<int64_t>> by_root;
  for (size_t i = 0; i < n; ++i) by_root[find(i)].insert(ids[i]);
  GroupSet out;
  for (auto& [root, g] : by_root)
    if (g.size() >= 2) out.insert(g);
  return out;
}

GroupSet groups_of(const cbir_collection_t* c, float threshold, const cbir_search_options_t* o = nullptr) {
  int64_t* ids = nullptr;
  size_t* offsets = nullptr;
  size_t n = 0;
  ok(cbir_collection_duplicates(&ids, &offsets, &n, c, threshold, o, nullptr, nullptr));
  GroupSet out;
  int64_t last_first = -1;
  for (size_t g = 0; g < n; ++g) {
    std::set<int64_t> members(ids + offsets[g], ids + offsets[g + 1]);
    CHECK(members.size() == offsets[g + 1] - offsets[g]);  // no id twice
    CHECK(ids[offsets[g]] > last_first);                   // groups by their first id
    last_first = ids[offsets[g]];
    out.insert(members);
  }
  cbir_free(ids);
  cbir_free(offsets);
  return out;
}

}  // namespace

TEST_CASE("duplicate groups equal the transitive closure of pairs above the threshold") {
  const std::vector<size_t> copies = {1, 2, 0, 4, 1, 0, 0, 3, 90};  // the last: more than 64
  const auto vecs = with_copies(400, copies, 5);
  const size_t n = vecs.size() / kDim;
  for (const char* spec : {"flat", "hnsw"}) {
    INFO(spec);
    TempDir dir;
    auto c = create(dir.sub("c"), kDim, spec);
    std::vector<std::string> u;
    for (size_t i = 0; i < n; ++i) u.push_back((i % 2 ? "/odd/" : "/even/") + std::to_string(i));
    const auto ids = add(c.get(), u, vecs, kDim);
    for (float threshold : {0.99f, 0.995f}) {
      INFO(threshold);
      const GroupSet want = reference(ids, vecs, threshold);
      CHECK(want.size() >= 6);
      CHECK(groups_of(c.get(), threshold) == want);
    }
    // A filter restricts items and neighbours alike.
    cbir_search_options_t o = CBIR_SEARCH_OPTIONS_INIT;
    o.where = "path like '/odd/%'";
    std::set<int64_t> odd;
    for (size_t i = 1; i < n; i += 2) odd.insert(ids[i]);
    CHECK(groups_of(c.get(), 0.99f, &o) == reference(ids, vecs, 0.99f, &odd));
  }
}

TEST_CASE("duplicates: none, bad arguments") {
  TempDir dir;
  auto c = create(dir.sub("c"), kDim);
  CHECK(groups_of(c.get(), 0.9f).empty());  // empty collection
  const auto vecs = unit_vectors(50, kDim, 9);
  add(c.get(), uris("/u/", 50), vecs, kDim);
  int64_t* ids = reinterpret_cast<int64_t*>(1);
  size_t* offsets = reinterpret_cast<size_t*>(1);
  size_t n = 7;
  ok(cbir_collection_duplicates(&ids, &offsets, &n, c.get(), 0.999f, nullptr, nullptr, nullptr));
  CHECK(n == 0);
  CHECK(ids == nullptr);
  CHECK(offsets == nullptr);
  CHECK(cbir_collection_duplicates(&ids, &offsets, &n, c.get(), NAN, nullptr, nullptr, nullptr) == CBIR_EINVAL);
  CHECK(cbir_collection_duplicates(nullptr, &offsets, &n, c.get(), 0.9f, nullptr, nullptr, nullptr) == CBIR_EINVAL);
  CHECK(cbir_collection_duplicates(&ids, &offsets, &n, nullptr, 0.9f, nullptr, nullptr, nullptr) == CBIR_EINVAL);
  cbir_search_options_t o = CBIR_SEARCH_OPTIONS_INIT;
  o.where = "width >";
  CHECK(cbir_collection_duplicates(&ids, &offsets, &n, c.get(), 0.9f, &o, nullptr, nullptr) == CBIR_EINVAL);
  // Every item is a duplicate of every other at threshold -1: one group of all 50.
  CHECK(groups_of(c.get(), -1.f).size() == 1);
  // Progress after each batch, and cancelling.
  add(c.get(), uris("/more/", 500, 100), unit_vectors(500, kDim, 10), kDim);
  std::vector<std::pair<uint64_t, uint64_t>> seen;
  auto record = [](void* user, uint64_t done, uint64_t total) {
    static_cast<std::vector<std::pair<uint64_t, uint64_t>>*>(user)->push_back({done, total});
    return 0;
  };
  ok(cbir_collection_duplicates(&ids, &offsets, &n, c.get(), 0.999f, nullptr, record, &seen));
  CHECK(seen == std::vector<std::pair<uint64_t, uint64_t>>{{256, 550}, {512, 550}, {550, 550}});
  auto stop = [](void*, uint64_t, uint64_t) { return 1; };
  CHECK(cbir_collection_duplicates(&ids, &offsets, &n, c.get(), -1.f, nullptr, stop, nullptr) ==
        CBIR_ECANCELLED);
  CHECK(n == 0);
  CHECK(ids == nullptr);
}
