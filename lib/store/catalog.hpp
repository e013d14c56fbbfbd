// The catalog: the collection's truth, in SQLite (WAL mode, synchronous=FULL). It holds the items
// (stable id, unique uri, file facts, user payload), their vectors, the removals not yet purged,
// and the collection's settings. Every change gets a sequence number ("seq"); the FAISS snapshot
// records the seq it reflects, and whatever the catalog holds past it is replayed on open.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/photo_meta.hpp"
#include "store/checkpointer.hpp"
#include "store/sqlite.hpp"

namespace cbir::store {

// A condition on the items table (columns id, uri, size, mtime, width, height and the photo
// facts; attrs(id, key, type, value) in subqueries; km_between() for distances) for
// Catalog::ids_where: SQL with a `?` for each value, bound from params in order. Made only by
// lib/query's filter compiler, from fixed column names and operators, never from user text.
struct SqlCondition {
  std::string sql;
  std::vector<std::variant<int64_t, double, std::string>> params;
};

// A user attribute's value (catalog_attrs.cpp). Types as the C API numbers them.
struct AttrValue {
  enum class Type { string = 1, integer = 2, real = 3, boolean = 4, timestamp = 5 };
  Type type = Type::string;
  int64_t i = 0;  // integer, boolean (0/1), timestamp (seconds since 1970 UTC)
  double r = 0;   // real
  std::string s;  // string
};

struct ItemInfo {
  int64_t id = -1;
  std::string uri;
  std::string content_hash;
  int64_t size = 0;
  int64_t mtime = 0;
  int32_t width = 0;
  int32_t height = 0;
  std::string payload;
  PhotoMeta photo;  // what the file said of itself (ingest); empty for items added by the API
};

// The collection's settings and counters, as stored in the `meta` table.
struct CatalogMeta {
  int32_t dim = 0;
  std::string fingerprint;
  std::string index_spec;  // as the user gave it (canonical form), e.g. "auto" or "hnsw:M=32,..."
  int64_t generation = 0;  // bumped by every rebuild/compact: a snapshot of another one is stale
  int64_t seq = 0;         // the last change's sequence number
  std::string space;       // the first vector space's name (catalog_spaces.cpp)
};

// A vector space besides the collection's first (catalog_spaces.cpp): another model's vectors
// of the same items, with an index of its own.
struct SpaceMeta {
  std::string name;
  int32_t dim = 0;
  std::string fingerprint;
  std::string index_spec;
  int64_t generation = 0;
};

class Catalog {
 public:
  static constexpr const char* kFileName = "catalog.sqlite";

  // Opens the catalog file `path`. A writer gets a read-write connection (and creates the file
  // when `create`); a reader a read-only one.
  Catalog(const std::string& path, bool writer, bool create);
  ~Catalog();

  // True when the file holds no schema yet (freshly created).
  bool empty();
  // Writes the schema and settings of a new collection (committed at once).
  void initialize(const CatalogMeta& meta);
  // Reads and checks the settings; ECORRUPT when they are missing or damaged.
  CatalogMeta read_meta();
  void set_index_spec(const std::string& spec, int64_t generation);
  void set_seq(int64_t seq);

  // Transactions. Writes go into one open transaction (started on the first write) that
  // commit() makes durable; each write call runs inside a savepoint so it applies all or nothing.
  void begin_write();
  void commit();
  void savepoint();
  void release();
  void rollback_to();
  // A consistent read across several statements (open, refresh, rebuild) for as long as it
  // lives; inside the writer's open transaction it adds nothing.
  class ReadTxn {
   public:
    explicit ReadTxn(Catalog& c);
    ~ReadTxn();
    ReadTxn(const ReadTxn&) = delete;
    ReadTxn& operator=(const ReadTxn&) = delete;

   private:
    Catalog& c_;
    bool began_ = false;
  };
  bool in_transaction() const { return db_.in_transaction(); }

  // Item writes. insert() throws CBIR_EEXIST naming the uri when it is taken.
  int64_t insert(const ItemInfo& item, const float* vec, size_t dim, int64_t seq);
  void update(int64_t id, const ItemInfo& item, const float* vec, size_t dim, int64_t seq);
  // Deletes the item and records the removal at `seq`; false when there is no such item.
  bool remove(int64_t id, int64_t seq);
  // Forgets removals at or before `seq` (after a compact has purged them everywhere).
  void prune_removed(int64_t seq);

  // Reads.
  std::optional<int64_t> find_uri(const std::string& uri);
  // The oldest item with this content hash (ingest reuses its vector for identical files).
  std::optional<int64_t> find_content_hash(const std::string& hash);
  std::optional<ItemInfo> get(int64_t id);
  bool vector(int64_t id, float* out, size_t dim);
  bool has_item(int64_t id);
  std::vector<int64_t> ids_after(int64_t after_id, size_t limit);
  std::vector<int64_t> ids_with_uri_prefix(const std::string& prefix);
  // The ids of the items meeting the condition, ascending.
  std::vector<int64_t> ids_where(const SqlCondition& condition);
  int64_t count();
  // Calls `fn` for every stored vector in id order, in chunks of up to `chunk` items:
  // fn(ids, vectors row-major, n).
  void scan_vectors(size_t dim, size_t chunk,
                    const std::function<void(const int64_t*, const float*, size_t)>& fn);
  // Changes after `seq`: items written (`upserted`, with their vectors) and ids removed.
  void changes_after(int64_t seq, size_t dim,
                     const std::function<void(int64_t id, const float* vec)>& upserted,
                     const std::function<void(int64_t id)>& removed);

  // User attributes (catalog_attrs.cpp). set_attr() replaces the item's value for the key;
  // remove_attr() is false when there was none. The item must exist (the caller checks).
  void set_attr(int64_t id, const std::string& key, const AttrValue& value);
  bool remove_attr(int64_t id, const std::string& key);
  // The item's attributes, by key; none for a collection made before them.
  std::vector<std::pair<std::string, AttrValue>> attrs(int64_t id);

  // Vector spaces (catalog_spaces.cpp). The first space's vectors are the `vectors` table and
  // its settings the meta table's; the others' are in `space_vectors` and `spaces`, made by a
  // writer when it opens the catalog (a reader of an older one sees no other space).
  // primary_space(): the first space's name ("default" for a collection made before names).
  std::string primary_space();
  std::vector<SpaceMeta> spaces();
  void add_space(const SpaceMeta& space);
  void set_space_index(const std::string& space, const std::string& spec, int64_t generation);
  void write_space_vector(const std::string& space, int64_t id, const float* vec, size_t dim,
                          int64_t seq);
  bool space_vector(const std::string& space, int64_t id, float* out, size_t dim);
  int64_t space_count(const std::string& space);
  std::vector<int64_t> space_ids(const std::string& space);
  void scan_space_vectors(const std::string& space, size_t dim, size_t chunk,
                          const std::function<void(const int64_t*, const float*, size_t)>& fn);
  // Vectors written to the space after `seq`, and the ids that left it: removed items, and items
  // written again after `seq` without a vector in this space.
  void space_changes_after(const std::string& space, int64_t seq, size_t dim,
                           const std::function<void(int64_t id, const float* vec)>& upserted,
                           const std::function<void(int64_t id)>& removed);

  // Copies the WAL into the main file and truncates it (best effort when readers hold it).
  void checkpoint();
  // Waits for the writer's background checkpoint to finish (no-op for a reader).
  void wait_for_background_checkpoint();
  // SQLite's own integrity check; "" when it finds nothing.
  std::string integrity_problems();
  // Every stored vector against its checksum (XXH3-64, written with it since format 1 gained
  // the column; older rows have none until they are written again).
  struct VectorCheck {
    int64_t checked = 0;
    int64_t without_sum = 0;
    std::vector<int64_t> damaged;  // ids
  };
  VectorCheck check_vectors(size_t chunk = 4096);
  VectorCheck check_space_vectors(const std::string& space);

  const std::string& path() const { return db_.path(); }

 private:
  struct Statements;
  static const char* const kSpaceSchema;
  // Reads the vector in column `col` (its checksum in `col` + 1) into out; CBIR_ECORRUPT when
  // its size or checksum is wrong.
  void read_vector(Stmt& s, int col, int64_t id, float* out, size_t dim);
  void write_vector(int64_t id, const float* vec, size_t dim);
  static bool sum_matches(Stmt& s, int col);
  bool has_vector_sums();
  bool has_photo_columns();
  bool has_spaces();
  void delete_space_vectors(int64_t id);
  // The space statements run once per item (catalog_spaces.cpp), prepared on first use.
  struct SpaceStatements;
  struct SpaceStatementsFree {
    void operator()(SpaceStatements* s) const;
  };
  SpaceStatements& space_statements();
  // The photo columns, attrs and spaces tables, for a collection made before them.
  void add_missing_tables();
  void register_functions();

  Db db_;
  std::unique_ptr<Statements> st_;
  std::unique_ptr<SpaceStatements, SpaceStatementsFree> sp_;
  // The items table has the photo columns and the attrs table exists, as of the statements'
  // preparation (read once, not per search).
  bool photo_ = false;
  bool spaces_ = false;  // the spaces tables exist (likewise read once)
  // The writer's; destroyed before db_, whose close then does SQLite's final checkpoint.
  std::unique_ptr<Checkpointer> checkpointer_;
};

}  // namespace cbir::store
