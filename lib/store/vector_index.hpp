// The in-memory FAISS index of a collection, keyed by item id.
//
// FAISS sees "slots" (0, 1, 2, ... in the order vectors were added) and this class maps slots to
// item ids, because the index types differ in what they can do with ids: IVF keeps explicit
// labels and removes them; IndexFlat and HNSW number their vectors themselves; HNSW cannot remove
// at all. So a removed vector is taken out of FAISS where the index supports it (IVF: remove_ids;
// flat: the last vector moves into its slot) and is otherwise masked out of every search by an
// IDSelector until compact() rebuilds without it.
//
// Not synchronized: the collection calls it under its own reader/writer lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/index_spec.hpp"

namespace faiss {
struct Index;
}

namespace cbir::store {

class SnapshotSink;
class SnapshotSource;

// Per-search overrides of the spec's search-time settings (0 = the spec's own).
struct SearchKnobs {
  int ef_search = 0;
  int nprobe = 0;
};

class VectorIndex {
 public:
  // An empty index for a concrete spec, trained on `ntrain` vectors when it needs training
  // (CBIR_EINVAL when there are too few to train it).
  VectorIndex(const IndexSpec& spec, size_t dim, const float* train, size_t ntrain);
  // Loads an index that save() wrote; throws CBIR_ECORRUPT when it does not hold together.
  VectorIndex(SnapshotSource& src, const IndexSpec& spec, size_t dim);
  ~VectorIndex();
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  void save(SnapshotSink& sink) const;
  // An index with the same trained structure and spec, holding nothing (for compact).
  std::unique_ptr<VectorIndex> empty_copy() const;

  // Adds unit-length vectors under `ids`; an id already present is replaced (and, within one
  // call, the last occurrence of an id wins).
  void upsert(const int64_t* ids, const float* vectors, size_t n);
  // Removes the ids that are present; returns how many were.
  size_t remove(const int64_t* ids, size_t n);

  bool contains(int64_t id) const { return slot_of_.count(id) != 0; }
  size_t size() const { return slot_of_.size(); }
  size_t masked() const { return masked_; }  // removed vectors still inside FAISS
  std::vector<int64_t> ids() const;
  const IndexSpec& spec() const { return spec_; }
  size_t dim() const { return dim_; }

  // k nearest ids per query (unit-length queries), best first, padded with -1/-INFINITY.
  // `allowed` (may be null) restricts the search to those ids.
  void search(const float* queries, size_t nq, size_t k, const std::vector<int64_t>* allowed,
              const SearchKnobs& knobs, float* scores, int64_t* ids) const;
  // Every id scoring at least `min_score`, best first (approximate for ANN indexes).
  std::vector<std::pair<float, int64_t>> range(const float* query, float min_score,
                                               const std::vector<int64_t>* allowed,
                                               const SearchKnobs& knobs) const;

 private:
  enum class Mode { Flat, Ivf, Hnsw, Other };
  class Selector;

  // Same spec and dimension as `like`, holding the (already trained, empty) `index`.
  VectorIndex(const VectorIndex& like, std::unique_ptr<faiss::Index> index);

  void set_mode();
  void check_consistent() const;
  void kill_slot(int64_t slot);
  // Makes room for `m` more vectors in the arrays that hold them (huge pages; see huge_pages.hpp).
  void reserve_for(size_t m);
  std::unique_ptr<Selector> selector(const std::vector<int64_t>* allowed) const;
  void faiss_search(const float* queries, size_t nq, size_t k, const Selector* sel,
                    const SearchKnobs& knobs, float* scores, int64_t* slots) const;
  void rerank(const float* query, size_t k, size_t candidates, const float* cand_scores,
              const int64_t* cand_slots, float* scores, int64_t* slots) const;
  const float* flat_data() const;

  IndexSpec spec_;
  size_t dim_;
  Mode mode_ = Mode::Other;
  std::unique_ptr<faiss::Index> index_;
  std::vector<int64_t> slot_ids_;                  // item id per slot, -1 once removed
  std::unordered_map<int64_t, int64_t> slot_of_;  // live item id -> slot
  size_t masked_ = 0;
  std::vector<float> exact_;  // exact vectors by slot, for re-ranking (rerank > 0)
};

}  // namespace cbir::store
