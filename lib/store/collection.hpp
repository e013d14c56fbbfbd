// A collection: a folder holding the catalog (SQLite, the truth), the index snapshot (FAISS, a
// derived copy) and the writer's lock file. See docs/collection.md for the guarantees.
//
// Thread safety: searches, reads and count may run on any number of threads at once, also
// while one thread writes; writes (add, remove, commit, save, rebuild, compact, refresh) are
// serialized. Another process may read the same folder; only one process may write it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/catalog.hpp"
#include "store/index_spec.hpp"
#include "store/rw_lock.hpp"
#include "store/vector_index.hpp"

namespace cbir::store {

class WriterLock;

struct OpenOptions {
  bool create = false;     // make the collection when the folder holds none
  bool read_only = false;  // no writer lock; see other processes' commits through refresh()
  int32_t dim = 0;         // 0: any; otherwise must match (CBIR_EMISMATCH); required to create
  std::optional<std::string> fingerprint;  // must match when given; required to create
  std::string index_spec = "auto";         // used when creating
  uint64_t memory_budget = 0;              // bytes for "auto"; 0 = half of physical memory
};

// What a search is restricted to: ids whose uri starts with a prefix and/or a set of ids.
// What a search may return: items meeting every part given.
struct SearchFilter {
  std::optional<std::string> uri_prefix;
  std::optional<std::vector<int64_t>> ids;
  std::optional<SqlCondition> where;  // a compiled filter expression (lib/query)
  bool active() const { return uri_prefix.has_value() || ids.has_value() || where.has_value(); }
};

struct CollectionInfo {
  std::string path;
  int32_t dim = 0;
  std::string fingerprint;
  std::string index_spec;      // as configured ("auto", "hnsw:...")
  std::string effective_spec;  // what the index in memory is
  uint64_t count = 0;
  uint64_t masked = 0;         // removed vectors still inside the index (compact purges them)
  int64_t seq = 0;             // changes reflected in memory
  int64_t generation = 0;
  bool read_only = false;
};

class Collection {
 public:
  static constexpr const char* kSnapshotName = "index.snap";

  Collection(const std::string& dir, const OpenOptions& opts);
  // A writer commits and saves its snapshot (failures are logged: call close() to see them).
  ~Collection();
  // Commits and saves as a writer, throwing on failure; afterwards only the destructor may run.
  void close();

  // Adds items with their vectors (any non-zero finite vectors; stored normalized). add()
  // refuses a uri that exists (CBIR_EEXIST); upsert() replaces that item, keeping its id.
  // All or nothing per call. Returns the ids.
  std::vector<int64_t> add(const ItemInfo* items, const float* vectors, size_t n, size_t dim,
                           bool upsert);
  // Removes the ids that exist; returns how many did.
  size_t remove(const int64_t* ids, size_t n);
  // Removes the item with this uri; false when there is none.
  bool remove_uri(const std::string& uri);

  std::optional<ItemInfo> get(int64_t id);
  std::optional<int64_t> find_uri(const std::string& uri);
  std::optional<int64_t> find_content_hash(const std::string& hash);
  std::vector<int64_t> ids_with_uri_prefix(const std::string& prefix);
  // The stored (normalized) vector; false when there is no such item.
  bool vector(int64_t id, float* out, size_t dim);
  std::vector<int64_t> ids_after(int64_t after_id, size_t limit);
  uint64_t count() const;

  // k best per query into scores/ids[nq * k], best first, padded with -INFINITY / -1; results
  // scoring below min_score are dropped.
  void search(const float* queries, size_t nq, size_t dim, size_t k, const SearchFilter& filter,
              float min_score, const SearchKnobs& knobs, float* scores, int64_t* ids);
  // Every item scoring at least min_score (near-duplicates), best first.
  std::vector<std::pair<float, int64_t>> range(const float* query, size_t dim, float min_score,
                                               const SearchFilter& filter, const SearchKnobs& knobs);
  // Like search() with the stored vector of `id` as the query, `id` itself left out.
  void similar(int64_t id, size_t k, const SearchFilter& filter, float min_score,
               const SearchKnobs& knobs, float* scores, int64_t* ids);

  void commit();
  // Commits, then writes the index snapshot so the next open need not replay.
  void save();
  // Readers: take in what other processes committed since. Writers: nothing to do.
  void refresh();
  // Rebuilds the index from the stored vectors, with a new spec or (empty) the same one.
  void rebuild(const std::string& spec);
  // Rebuilds without the removed vectors, forgets old removals, checkpoints the catalog.
  void compact();
  // Every check of the collection (lib/store/verify.cpp), each reported to `on_check` as it
  // ends: its name ("catalog", "vectors", "snapshot", "index"), CBIR_OK or the error code, and
  // what is wrong and what to do (or a note). Returns CBIR_OK, or the first failure's code.
  using VerifyFn = std::function<void(const char* check, int status, const std::string& message)>;
  int verify_report(const VerifyFn& on_check);
  // verify_report() that throws the first failure (CBIR_ECORRUPT with its message).
  void verify();

  CollectionInfo info() const;

  // The ids a filter lets through (every part intersected), or nullopt when it is inactive.
  std::optional<std::vector<int64_t>> allowed_ids(const SearchFilter& filter);

  // User attributes (attributes.cpp). Each write sets `value` for (id, key), or removes the
  // key where value is empty; all or nothing per call, durable at the next commit like adds.
  // CBIR_ENOTFOUND names an id that is not in the collection; CBIR_EINVAL a bad key or value.
  struct AttrWrite {
    int64_t id = -1;
    std::string key;
    std::optional<AttrValue> value;
  };
  // Returns how many writes changed something (a removal of a key the item lacks does not).
  size_t write_attrs(const AttrWrite* writes, size_t n);
  // The item's attributes by key; CBIR_ENOTFOUND when there is no such item.
  std::vector<std::pair<std::string, AttrValue>> attrs(int64_t id);

 private:
  // An index loaded (from the snapshot plus replay, or built from the catalog) with the catalog
  // settings it matches.
  struct Loaded {
    std::unique_ptr<VectorIndex> index;
    CatalogMeta meta;
    int64_t snapshot_seq = -1;  // watermark of the snapshot it came from; -1 when built
  };
  // Changes read from the catalog, to apply to an index.
  struct Delta {
    std::vector<int64_t> removed;
    std::vector<int64_t> ids;
    std::vector<float> vectors;
  };

  void require_writer(const char* what) const;
  void check_dim(size_t dim, const char* what) const;
  CatalogMeta new_collection_meta(const OpenOptions& opts) const;
  // The caller holds db_mu_ for these.
  Loaded load_index_locked();
  Delta read_delta_locked(int64_t after_seq, size_t dim);
  void read_all_locked(size_t dim, std::vector<int64_t>& ids, std::vector<float>& vectors);
  void commit_locked();

  void apply(VectorIndex& index, const Delta& delta);
  std::unique_ptr<VectorIndex> build_index(const IndexSpec& spec, size_t dim,
                                           const std::vector<int64_t>& ids,
                                           const std::vector<float>& vectors, bool fall_back);
  void write_snapshot_of(const VectorIndex& index, int64_t seq, int64_t generation);
  void save_locked();
  void reload_locked();
  void restore_after_failure();
  void search_few_exactly(const float* unit, size_t nq, size_t k,
                          const std::vector<int64_t>& allowed, float* scores, int64_t* ids);
  std::string snapshot_path() const { return dir_ + "/" + kSnapshotName; }

  // Fixed at open.
  std::string dir_;
  bool writer_;
  uint64_t memory_budget_;
  int32_t dim_ = 0;
  std::string fingerprint_;
  std::unique_ptr<WriterLock> lock_;

  mutable std::mutex write_mu_;  // one mutating call at a time; guards the fields below it
  int64_t seq_ = 0;              // writer: the last change's seq, uncommitted ones included
  int64_t snapshot_seq_ = -1;    // watermark of the snapshot on disk (-1: none or stale)
  bool closed_ = false;
  std::vector<float> add_buffer_;  // normalized vectors of the add() in progress

  mutable std::mutex db_mu_;  // the catalog connection
  std::unique_ptr<Catalog> catalog_;

  mutable RwLock index_mu_;  // searches share it; changing what it guards takes it alone
  std::unique_ptr<VectorIndex> index_;  // null only after a failed write could not be undone
  int64_t index_seq_ = 0;               // catalog seq the index reflects
  IndexSpec spec_;                      // as configured (may be auto)
  int64_t generation_ = 0;
};

}  // namespace cbir::store
