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
  std::string space;                       // the first vector space's name when creating
                                           // ("" = "default")
};

// What a search is restricted to: ids whose uri starts with a prefix and/or a set of ids.
// What a search may return: items meeting every part given.
struct SearchFilter {
  std::optional<std::string> uri_prefix;
  std::optional<std::vector<int64_t>> ids;
  std::optional<SqlCondition> where;  // a compiled filter expression (lib/query)
  bool active() const { return uri_prefix.has_value() || ids.has_value() || where.has_value(); }
};

// A vector space: one model's vectors of the collection's items, with an index of its own.
struct SpaceInfo {
  std::string name;
  int32_t dim = 0;
  std::string fingerprint;
  std::string index_spec;      // as configured
  std::string effective_spec;  // what the index in memory is
  uint64_t count = 0;          // items with a vector in this space
  int64_t generation = 0;
};

// Vectors of items for a space besides the first (add()); row-major, n x dim.
struct SpaceVectors {
  std::string space;
  const float* vectors = nullptr;
  size_t dim = 0;
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

// CBIR_EINVAL unless `name` can name a vector space: 1 to 32 of a-z, 0-9, '_' and '-'.
void check_space_name(const std::string& name);

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
  // `extra`: their vectors in other spaces, written with them. An item written again keeps no
  // vector of its old content: where `extra` omits a space, the item leaves that space.
  std::vector<int64_t> add(const ItemInfo* items, const float* vectors, size_t n, size_t dim,
                           bool upsert, const SpaceVectors* extra = nullptr, size_t n_extra = 0);
  // Removes the ids that exist; returns how many did.
  size_t remove(const int64_t* ids, size_t n);
  // Removes the item with this uri; false when there is none.
  bool remove_uri(const std::string& uri);

  std::optional<ItemInfo> get(int64_t id);
  std::optional<int64_t> find_uri(const std::string& uri);
  std::optional<int64_t> find_content_hash(const std::string& hash);
  std::vector<int64_t> ids_with_uri_prefix(const std::string& prefix);
  // The stored (normalized) vector in `space` ("": the first); false when there is none.
  bool vector(int64_t id, float* out, size_t dim, const std::string& space = {});
  std::vector<int64_t> ids_after(int64_t after_id, size_t limit);
  uint64_t count() const;

  // k best per query into scores/ids[nq * k], best first, padded with -INFINITY / -1; results
  // scoring below min_score are dropped. `space`: the vector space searched ("": the first);
  // CBIR_ENOTFOUND when the collection has none of that name.
  void search(const float* queries, size_t nq, size_t dim, size_t k, const SearchFilter& filter,
              float min_score, const SearchKnobs& knobs, float* scores, int64_t* ids,
              const std::string& space = {});
  // Every item scoring at least min_score (near-duplicates), best first.
  std::vector<std::pair<float, int64_t>> range(const float* query, size_t dim, float min_score,
                                               const SearchFilter& filter, const SearchKnobs& knobs,
                                               const std::string& space = {});
  // Like search() with the stored vector of `id` in that space as the query, `id` left out.
  void similar(int64_t id, size_t k, const SearchFilter& filter, float min_score,
               const SearchKnobs& knobs, float* scores, int64_t* ids, const std::string& space = {});

  // Vector spaces (spaces.cpp). add_space() makes an empty one (committed at once):
  // CBIR_EEXIST when the name is taken, CBIR_EINVAL for a bad name, dim, fingerprint or spec.
  // Names: 1 to 32 of a-z, 0-9, '_' and '-'.
  void add_space(const std::string& name, int32_t dim, const std::string& fingerprint,
                 const std::string& index_spec);
  // Every space, the first one first; one of them by name ("": the first; CBIR_ENOTFOUND).
  std::vector<SpaceInfo> spaces() const;
  SpaceInfo space(const std::string& name) const;
  // The ids of the items with a vector in the space ("": every item), ascending.
  std::vector<int64_t> space_ids(const std::string& name);
  // Sets the vectors of existing items in a space besides the first (filling a space added
  // later); all or nothing, durable at the next commit. CBIR_ENOTFOUND for an unknown id.
  void set_space_vectors(const std::string& space, const int64_t* ids, const float* vectors,
                         size_t n, size_t dim);

  void commit();
  // Commits, then writes the index snapshot so the next open need not replay.
  void save();
  // Readers: take in what other processes committed since. Writers: nothing to do.
  void refresh();
  // Rebuilds a space's index ("": the first's) from its stored vectors, with a new spec or
  // (empty) the same one.
  void rebuild(const std::string& spec, const std::string& space = {});
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
  // A vector space: its settings as the catalog holds them and its index in memory.
  struct Space {
    std::string name;
    bool first = false;  // the first space: the vectors table and the meta settings
    int32_t dim = 0;
    std::string fingerprint;
    IndexSpec spec;      // as configured (may be auto)
    int64_t generation = 0;
    std::unique_ptr<VectorIndex> index;  // null only after a failed write could not be undone
    int64_t snapshot_seq = -1;  // watermark of its snapshot on disk (-1: none or stale); write_mu_
  };
  // Every space's settings and index, loaded (from its snapshot plus replay, or built from the
  // catalog) in one read of the catalog, at `seq`.
  struct Loaded {
    std::vector<std::unique_ptr<Space>> spaces;
    int64_t seq = 0;
  };
  // Changes read from the catalog, to apply to an index.
  struct Delta {
    std::vector<int64_t> removed;
    std::vector<int64_t> ids;
    std::vector<float> vectors;
  };

  void require_writer(const char* what) const;
  // verify_report()'s checks of one space's snapshot and index (verify.cpp); false when the
  // checks of the others are pointless.
  bool verify_space(const Space& space, int64_t seq, const std::string& which, const VerifyFn& report);
  CatalogMeta new_collection_meta(const OpenOptions& opts) const;
  // The caller holds db_mu_ for these.
  Loaded load_index_locked();
  void load_space_locked(Space& space, int64_t seq);
  Delta read_delta_locked(const Space& space, int64_t after_seq);
  void read_all_locked(const Space& space, std::vector<int64_t>& ids, std::vector<float>& vectors);
  void commit_locked();
  // The space of that name ("": the first); CBIR_ENOTFOUND when there is none. The caller holds
  // index_mu_ (shared or alone).
  Space& space_named(const std::string& name) const;
  // space_named() under a shared index_mu_ of its own: the Space outlives the lock.
  const Space& locked_space(const std::string& name) const;
  // The space's index; CBIR_EIO when a failed write left it unavailable.
  VectorIndex& index_of(const Space& space) const;
  // Takes in freshly loaded spaces: the indexes of those it has, and the new ones (index_mu_
  // held alone).
  void adopt(Loaded&& loaded);
  void check_dim(const Space& space, size_t dim, const char* what) const;

  void apply(VectorIndex& index, const Delta& delta);
  std::unique_ptr<VectorIndex> build_index(const IndexSpec& spec, size_t dim,
                                           const std::vector<int64_t>& ids,
                                           const std::vector<float>& vectors, bool fall_back);
  void write_snapshot_of(const Space& space, const VectorIndex& index, int64_t seq,
                         int64_t generation);
  void save_locked();
  void reload_locked();
  void restore_after_failure();
  void search_few_exactly(const Space& space, const float* unit, size_t nq, size_t k,
                          const std::vector<int64_t>& allowed, float* scores, int64_t* ids);
  // The first space's snapshot is index.snap; another's index.<name>.snap.
  std::string snapshot_path(const Space& space) const;

  // Fixed at open.
  std::string dir_;
  bool writer_;
  uint64_t memory_budget_;
  int32_t dim_ = 0;          // the first space's
  std::string fingerprint_;  // the first space's
  std::unique_ptr<WriterLock> lock_;

  mutable std::mutex write_mu_;  // one mutating call at a time; guards the fields below it
  int64_t seq_ = 0;              // writer: the last change's seq, uncommitted ones included
  bool closed_ = false;
  std::vector<float> add_buffer_;  // normalized vectors of the add() in progress

  mutable std::mutex db_mu_;  // the catalog connection
  std::unique_ptr<Catalog> catalog_;

  mutable RwLock index_mu_;  // searches share it; changing what it guards takes it alone
  // The first one first; never empty once open. A Space is never removed or moved (its name,
  // first, dim and fingerprint never change): a pointer to one stays valid.
  std::vector<std::unique_ptr<Space>> spaces_;
  int64_t index_seq_ = 0;                       // catalog seq the indexes reflect
};

}  // namespace cbir::store
