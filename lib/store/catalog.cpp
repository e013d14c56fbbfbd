#include "store/catalog.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.hpp"
#include "store/checksum.hpp"

namespace cbir::store {

namespace {

constexpr int64_t kFormat = 1;

// Vectors are 2-4 KiB blobs: 16 KiB pages hold several per page instead of one per 4 KiB page.
constexpr const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE items(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uri TEXT NOT NULL UNIQUE,
  content_hash TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime INTEGER NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  payload TEXT NOT NULL,
  seq INTEGER NOT NULL,
  format TEXT, taken INTEGER, taken_offset INTEGER, make TEXT, model TEXT, lat REAL, lon REAL);
CREATE INDEX items_by_seq ON items(seq);
CREATE INDEX items_by_hash ON items(content_hash);
CREATE TABLE vectors(id INTEGER PRIMARY KEY, vector BLOB NOT NULL, sum INTEGER);
CREATE TABLE removed(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE INDEX removed_by_seq ON removed(seq);
)sql";

// User attributes (catalog_attrs.cpp): typed values, at most one per item and key. Made with
// the schema, and by a writer opening a collection made before them.
constexpr const char* kAttrSchema = R"sql(
CREATE TABLE IF NOT EXISTS attrs(
  id INTEGER NOT NULL, key TEXT NOT NULL, type INTEGER NOT NULL, value,
  PRIMARY KEY(id, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS attrs_by_key ON attrs(key, value);
)sql";

// The photo facts (common/photo_meta.hpp), appended to the items table; collections made before
// them gain the columns when a writer opens them (instant: old rows read NULL, until indexed
// again), and a reader of one not yet opened so sees NULLs in their place.
constexpr const char* kPhotoColumns[] = {"format TEXT", "taken INTEGER", "taken_offset INTEGER",
                                         "make TEXT", "model TEXT", "lat REAL", "lon REAL"};
constexpr const char* kPhotoNulls =
    "NULL AS format, NULL AS taken, NULL AS taken_offset, NULL AS make, NULL AS model, "
    "NULL AS lat, NULL AS lon";

// The smallest string greater than every string starting with `prefix` ("" when none exists).
std::string prefix_upper_bound(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

}  // namespace

struct Catalog::Statements {
  // `sum`: the vectors table has its checksum column (collections made before it gain it when a
  // writer opens them; a reader of one not yet opened so reads NULL in its place).
  // `photo`: the items table has the photo columns (always so for a writer).
  Statements(Db& db, bool sum, bool photo)
      : insert_item(db, photo ? "INSERT INTO items(uri, content_hash, size, mtime, width, height, "
                                "payload, seq, format, taken, taken_offset, make, model, lat, lon) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                                "?14, ?15)"
                              : "SELECT 1"),
        insert_vector(db, sum ? "INSERT OR REPLACE INTO vectors(id, vector, sum) VALUES (?1, ?2, ?3)"
                              : "INSERT OR REPLACE INTO vectors(id, vector) VALUES (?1, ?2)"),
        update_item(db, photo ? "UPDATE items SET uri = ?2, content_hash = ?3, size = ?4, mtime = ?5, "
                                "width = ?6, height = ?7, payload = ?8, seq = ?9, format = ?10, "
                                "taken = ?11, taken_offset = ?12, make = ?13, model = ?14, "
                                "lat = ?15, lon = ?16 WHERE id = ?1"
                              : "SELECT 1"),
        delete_item(db, "DELETE FROM items WHERE id = ?1"),
        delete_vector(db, "DELETE FROM vectors WHERE id = ?1"),
        delete_attrs(db, photo ? "DELETE FROM attrs WHERE id = ?1" : "SELECT ?1"),
        insert_removed(db, "INSERT OR REPLACE INTO removed(id, seq) VALUES (?1, ?2)"),
        find_uri(db, "SELECT id FROM items WHERE uri = ?1"),
        find_hash(db, "SELECT id FROM items WHERE content_hash = ?1 ORDER BY id LIMIT 1"),
        get_item(db, photo ? "SELECT id, uri, content_hash, size, mtime, width, height, payload, "
                             "format, taken, taken_offset, make, model, lat, lon FROM items "
                             "WHERE id = ?1"
                           : "SELECT id, uri, content_hash, size, mtime, width, height, payload, "
                             "NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM items WHERE id = ?1"),
        get_vector(db, sum ? "SELECT vector, sum FROM vectors WHERE id = ?1"
                           : "SELECT vector, NULL FROM vectors WHERE id = ?1"),
        ids_after(db, "SELECT id FROM items WHERE id > ?1 ORDER BY id LIMIT ?2"),
        uri_range(db, "SELECT id FROM items WHERE uri >= ?1 AND uri < ?2"),
        uri_from(db, "SELECT id FROM items WHERE uri >= ?1"),
        scan_vectors(db, sum ? "SELECT id, vector, sum FROM vectors WHERE id > ?1 ORDER BY id LIMIT ?2"
                             : "SELECT id, vector, NULL FROM vectors WHERE id > ?1 ORDER BY id LIMIT ?2"),
        upserted_after(db, sum ? "SELECT items.id, vectors.vector, vectors.sum FROM items LEFT JOIN "
                                 "vectors ON vectors.id = items.id WHERE items.seq > ?1 ORDER BY items.seq"
                               : "SELECT items.id, vectors.vector, NULL FROM items LEFT JOIN vectors "
                                 "ON vectors.id = items.id WHERE items.seq > ?1 ORDER BY items.seq"),
        removed_after(db, "SELECT id FROM removed WHERE seq > ?1 ORDER BY seq"),
        set_meta(db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)"),
        get_meta(db, "SELECT value FROM meta WHERE key = ?1"),
        count(db, "SELECT count(*) FROM items") {}

  Stmt insert_item, insert_vector, update_item, delete_item, delete_vector, delete_attrs, insert_removed;
  Stmt find_uri, find_hash, get_item, get_vector, ids_after, uri_range, uri_from, scan_vectors;
  Stmt upserted_after, removed_after, set_meta, get_meta, count;
};

Catalog::Catalog(const std::string& path, bool writer, bool create)
    : db_(path, create, !writer) {
  if (writer) {
    // SQLite's largest page: a 512-d vector row is 2 KiB, and fewer, larger pages made a 1M
    // bulk load ~30% faster here than 16 KiB pages (fewer log frames, B-tree steps, page
    // copies). The size is fixed when the file is made; older collections keep theirs.
    if (empty()) db_.exec("PRAGMA page_size = 65536");
    db_.exec("PRAGMA journal_mode = WAL");
    // The log is reused from its start once checkpointed; past a bulk load, keep 64 MiB of it.
    db_.exec("PRAGMA journal_size_limit = 67108864");
  }
  // Collections made before vectors had checksums gain the column when a writer opens them
  // (instant: existing rows read NULL, and get a checksum when they are written again).
  if (writer && !empty() && !has_vector_sums()) db_.exec("ALTER TABLE vectors ADD COLUMN sum INTEGER");
  if (writer && !empty()) add_missing_tables();
  register_functions();
  // FULL: a commit is on disk (WAL fsynced) when commit() returns, power loss included.
  db_.exec("PRAGMA synchronous = FULL");
  db_.exec("PRAGMA cache_size = -65536");  // 64 MiB
  if (writer) {
    // Checkpoints move to a thread of their own (checkpointer.hpp), once the log holds 16 MiB
    // (SQLite's automatic checkpoint, which the hook replaces, counted 1000 pages of any size).
    Stmt page(db_, "PRAGMA page_size");
    page.step();
    const int min_frames = static_cast<int>(std::max<int64_t>(1, (16 << 20) / page.int64(0)));
    checkpointer_ = std::make_unique<Checkpointer>(path, min_frames);
    sqlite3_wal_hook(
        db_.raw(),
        [](void* c, sqlite3*, const char*, int frames) {
          try {  // called from inside SQLite: nothing may unwind through it
            static_cast<Checkpointer*>(c)->on_commit(frames);
          } catch (...) {  // a missed request only delays the copy to a later commit
          }
          return SQLITE_OK;
        },
        checkpointer_.get());
  }
}

Catalog::~Catalog() {
  if (checkpointer_) sqlite3_wal_hook(db_.raw(), nullptr, nullptr);
}

bool Catalog::empty() {
  Stmt s(db_, "SELECT count(*) FROM sqlite_master WHERE name = 'meta'");
  s.step();
  return s.int64(0) == 0;
}

void Catalog::initialize(const CatalogMeta& meta) {
  db_.exec("BEGIN IMMEDIATE");
  try {
    db_.exec(kSchema);
    db_.exec(kAttrSchema);
    db_.exec(kSpaceSchema);
    st_ = std::make_unique<Statements>(db_, true, true);
    photo_ = spaces_ = true;
    auto put = [&](const char* key, auto value) {
      st_->set_meta.bind(1, key).bind(2, value).run();
    };
    put("format", kFormat);
    put("dim", int64_t{meta.dim});
    put("fingerprint", std::string_view(meta.fingerprint));
    put("index_spec", std::string_view(meta.index_spec));
    put("generation", meta.generation);
    put("seq", meta.seq);
    if (!meta.space.empty()) put("space", std::string_view(meta.space));
    db_.exec("COMMIT");
  } catch (...) {
    st_.reset();
    sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

CatalogMeta Catalog::read_meta() {
  if (!st_) {
    if (empty())
      fail(CBIR_ECORRUPT, "the collection catalog " + path() +
                              " holds no collection (its settings are missing); remove the folder "
                              "and create the collection again");
    photo_ = has_photo_columns();
    spaces_ = has_spaces();
    st_ = std::make_unique<Statements>(db_, has_vector_sums(), photo_);
  }
  auto get = [&](const char* key) -> Stmt& {
    Stmt& s = st_->get_meta;
    s.bind(1, key);
    if (!s.step()) {
      s.reset();
      fail(CBIR_ECORRUPT, std::string("the collection catalog ") + path() + " lacks the setting '" +
                              key + "'; the collection is damaged");
    }
    return s;
  };
  auto get_int = [&](const char* key) {
    Stmt& s = get(key);
    int64_t v = s.int64(0);
    s.reset();
    return v;
  };
  auto get_text = [&](const char* key) {
    Stmt& s = get(key);
    std::string v = s.text(0);
    s.reset();
    return v;
  };
  int64_t format = get_int("format");
  if (format != kFormat)
    fail(CBIR_EUNSUPPORTED, "the collection " + path() + " has format " + std::to_string(format) +
                                "; this cbir reads format " + std::to_string(kFormat) +
                                " (upgrade cbir)");
  CatalogMeta m;
  int64_t dim = get_int("dim");
  if (dim <= 0 || dim > 65536)
    fail(CBIR_ECORRUPT, "the collection catalog " + path() + " holds an invalid dimension " +
                            std::to_string(dim));
  m.dim = static_cast<int32_t>(dim);
  m.fingerprint = get_text("fingerprint");
  m.index_spec = get_text("index_spec");
  m.generation = get_int("generation");
  m.seq = get_int("seq");
  m.space = primary_space();
  return m;
}

void Catalog::set_index_spec(const std::string& spec, int64_t generation) {
  st_->set_meta.bind(1, "index_spec").bind(2, std::string_view(spec)).run();
  st_->set_meta.bind(1, "generation").bind(2, generation).run();
}

void Catalog::set_seq(int64_t seq) { st_->set_meta.bind(1, "seq").bind(2, seq).run(); }

void Catalog::begin_write() {
  if (!db_.in_transaction()) db_.exec("BEGIN IMMEDIATE");
}

void Catalog::commit() {
  if (db_.in_transaction()) db_.exec("COMMIT");
}

void Catalog::savepoint() { db_.exec("SAVEPOINT op"); }
void Catalog::release() { db_.exec("RELEASE op"); }
void Catalog::rollback_to() {
  // Best effort: called while an error is already on its way to the caller.
  sqlite3_exec(db_.raw(), "ROLLBACK TO op; RELEASE op", nullptr, nullptr, nullptr);
}

Catalog::ReadTxn::ReadTxn(Catalog& c) : c_(c) {
  if (!c_.db_.in_transaction()) {
    c_.db_.exec("BEGIN");
    began_ = true;
  }
}

Catalog::ReadTxn::~ReadTxn() {
  if (began_) sqlite3_exec(c_.db_.raw(), "COMMIT", nullptr, nullptr, nullptr);
}

// Binds the photo facts from parameter `at` on; what is unknown stays NULL.
void bind_photo(Stmt& s, int at, const PhotoMeta& p) {
  if (!p.format.empty()) s.bind(at, p.format);
  if (p.taken) s.bind(at + 1, *p.taken);
  if (p.taken_offset) s.bind(at + 2, int64_t{*p.taken_offset});
  if (!p.make.empty()) s.bind(at + 3, p.make);
  if (!p.model.empty()) s.bind(at + 4, p.model);
  if (p.lat && p.lon) s.bind(at + 5, *p.lat).bind(at + 6, *p.lon);
}

int64_t Catalog::insert(const ItemInfo& item, const float* vec, size_t dim, int64_t seq) {
  Stmt& s = st_->insert_item;
  ResetOnExit r(s);
  s.bind(1, item.uri).bind(2, item.content_hash).bind(3, item.size).bind(4, item.mtime);
  s.bind(5, int64_t{item.width}).bind(6, int64_t{item.height}).bind(7, item.payload).bind(8, seq);
  bind_photo(s, 9, item.photo);
  try {
    s.step();
  } catch (const Error& e) {
    if (e.code() == CBIR_EEXIST)
      fail(CBIR_EEXIST, "an item with uri '" + item.uri +
                            "' already exists in the collection (use upsert to replace it)");
    throw;
  }
  int64_t id = db_.last_insert_id();
  write_vector(id, vec, dim);
  return id;
}

void Catalog::update(int64_t id, const ItemInfo& item, const float* vec, size_t dim, int64_t seq) {
  Stmt& s = st_->update_item;
  ResetOnExit r(s);
  s.bind(1, id).bind(2, item.uri).bind(3, item.content_hash).bind(4, item.size).bind(5, item.mtime);
  s.bind(6, int64_t{item.width}).bind(7, int64_t{item.height}).bind(8, item.payload).bind(9, seq);
  bind_photo(s, 10, item.photo);
  s.step();
  write_vector(id, vec, dim);
  delete_space_vectors(id);  // of the old content; the caller writes the new ones
}

void Catalog::write_vector(int64_t id, const float* vec, size_t dim) {
  const size_t bytes = dim * sizeof(float);
  const uint64_t sum = checksum_of(vec, bytes);
  int64_t stored;  // SQLite's integers are signed: the same 64 bits
  std::memcpy(&stored, &sum, sizeof stored);
  st_->insert_vector.bind(1, id).bind_blob(2, vec, bytes).bind(3, stored).run();
}

bool Catalog::remove(int64_t id, int64_t seq) {
  st_->delete_item.bind(1, id).run();
  if (db_.changes() == 0) return false;
  st_->delete_vector.bind(1, id).run();
  st_->delete_attrs.bind(1, id).run();
  delete_space_vectors(id);
  st_->insert_removed.bind(1, id).bind(2, seq).run();
  return true;
}

void Catalog::prune_removed(int64_t seq) {
  Stmt s(db_, "DELETE FROM removed WHERE seq <= ?1");
  s.bind(1, seq).run();
}

std::optional<int64_t> Catalog::find_uri(const std::string& uri) {
  Stmt& s = st_->find_uri;
  ResetOnExit r(s);
  s.bind(1, uri);
  if (!s.step()) return std::nullopt;
  return s.int64(0);
}

std::optional<int64_t> Catalog::find_content_hash(const std::string& hash) {
  Stmt& s = st_->find_hash;
  ResetOnExit r(s);
  s.bind(1, hash);
  if (!s.step()) return std::nullopt;
  return s.int64(0);
}

std::optional<ItemInfo> Catalog::get(int64_t id) {
  Stmt& s = st_->get_item;
  ResetOnExit r(s);
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  ItemInfo it;
  it.id = s.int64(0);
  it.uri = s.text(1);
  it.content_hash = s.text(2);
  it.size = s.int64(3);
  it.mtime = s.int64(4);
  it.width = static_cast<int32_t>(s.int64(5));
  it.height = static_cast<int32_t>(s.int64(6));
  it.payload = s.text(7);
  PhotoMeta& p = it.photo;
  p.format = s.text(8);
  if (!s.is_null(9)) p.taken = s.int64(9);
  if (!s.is_null(10)) p.taken_offset = static_cast<int32_t>(s.int64(10));
  p.make = s.text(11);
  p.model = s.text(12);
  if (!s.is_null(13) && !s.is_null(14)) {
    p.lat = s.real(13);
    p.lon = s.real(14);
  }
  return it;
}

void Catalog::read_vector(Stmt& s, int col, int64_t id, float* out, size_t dim) {
  if (s.bytes(col) != dim * sizeof(float))
    fail(CBIR_ECORRUPT, "the vector of item " + std::to_string(id) + " in " + path() + " has " +
                            std::to_string(s.bytes(col)) + " bytes instead of " +
                            std::to_string(dim * sizeof(float)) + "; the catalog is damaged");
  if (!sum_matches(s, col))
    fail(CBIR_ECORRUPT, "the stored vector of item " + std::to_string(id) + " in " + path() +
                            " fails its checksum (the file was damaged on disk); remove the item "
                            "and index its image again");
  std::memcpy(out, s.blob(col), dim * sizeof(float));
}

bool Catalog::sum_matches(Stmt& s, int col) {
  if (s.is_null(col + 1)) return true;  // written before vectors had checksums
  const int64_t stored = s.int64(col + 1);
  uint64_t want;
  std::memcpy(&want, &stored, sizeof want);
  return checksum_of(s.blob(col), s.bytes(col)) == want;
}

bool Catalog::has_photo_columns() {
  Stmt s(db_, "SELECT count(*) FROM pragma_table_info('items') WHERE name = 'lon'");
  s.step();
  return s.int64(0) > 0;
}

void Catalog::add_missing_tables() {
  for (const char* column : kPhotoColumns) {
    const std::string name(column, std::strchr(column, ' '));
    Stmt s(db_, "SELECT count(*) FROM pragma_table_info('items') WHERE name = ?1");
    s.bind(1, name);
    s.step();
    if (s.int64(0) == 0) db_.exec(("ALTER TABLE items ADD COLUMN " + std::string(column)).c_str());
  }
  db_.exec(kAttrSchema);
  db_.exec(kSpaceSchema);
}

// km_between(lat1, lon1, lat2, lon2): great-circle distance on a sphere of the Earth's mean
// radius (haversine), for near() in filters; NULL when a position is NULL.
void Catalog::register_functions() {
  auto km = [](sqlite3_context* ctx, int, sqlite3_value** v) {
    for (int i = 0; i < 4; ++i)
      if (sqlite3_value_type(v[i]) == SQLITE_NULL) return sqlite3_result_null(ctx);
    constexpr double kRad = 3.14159265358979323846 / 180, kEarthKm = 6371.0088;
    const double la1 = sqlite3_value_double(v[0]) * kRad, lo1 = sqlite3_value_double(v[1]) * kRad;
    const double la2 = sqlite3_value_double(v[2]) * kRad, lo2 = sqlite3_value_double(v[3]) * kRad;
    const double a = std::pow(std::sin((la2 - la1) / 2), 2) +
                     std::cos(la1) * std::cos(la2) * std::pow(std::sin((lo2 - lo1) / 2), 2);
    sqlite3_result_double(ctx, 2 * kEarthKm * std::asin(std::sqrt(std::min(1.0, a))));
  };
  const int rc = sqlite3_create_function(db_.raw(), "km_between", 4,
                                         SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, km, nullptr,
                                         nullptr);
  if (rc != SQLITE_OK) db_.fail(rc, "registering km_between");
}

bool Catalog::has_vector_sums() {
  Stmt s(db_, "SELECT count(*) FROM pragma_table_info('vectors') WHERE name = 'sum'");
  s.step();
  return s.int64(0) > 0;
}

Catalog::VectorCheck Catalog::check_vectors(size_t chunk) {
  Stmt s(db_, has_vector_sums() ? "SELECT id, vector, sum FROM vectors WHERE id > ?1 ORDER BY id LIMIT ?2"
                                : "SELECT id, vector, NULL FROM vectors WHERE id > ?1 ORDER BY id LIMIT ?2");
  VectorCheck out;
  for (int64_t after = -1, n = 1; n > 0;) {
    s.bind(1, after).bind(2, static_cast<int64_t>(chunk));
    for (n = 0; s.step(); ++n) {
      if (s.int64(0) <= after) {  // a damaged b-tree handing back ids out of order: stop
        out.damaged.push_back(s.int64(0));
        s.reset();
        return out;
      }
      after = s.int64(0);
      ++out.checked;
      if (s.is_null(2)) ++out.without_sum;
      else if (!sum_matches(s, 1)) out.damaged.push_back(after);
    }
    s.reset();
  }
  return out;
}

bool Catalog::vector(int64_t id, float* out, size_t dim) {
  Stmt& s = st_->get_vector;
  ResetOnExit r(s);
  s.bind(1, id);
  if (!s.step()) return false;
  read_vector(s, 0, id, out, dim);
  return true;
}

std::vector<int64_t> Catalog::ids_after(int64_t after_id, size_t limit) {
  Stmt& s = st_->ids_after;
  ResetOnExit r(s);
  s.bind(1, after_id).bind(2, static_cast<int64_t>(limit));
  std::vector<int64_t> ids;
  while (s.step()) ids.push_back(s.int64(0));
  return ids;
}

std::vector<int64_t> Catalog::ids_with_uri_prefix(const std::string& prefix) {
  std::string upper = prefix_upper_bound(prefix);
  Stmt& s = upper.empty() ? st_->uri_from : st_->uri_range;
  ResetOnExit r(s);
  s.bind(1, prefix);
  if (!upper.empty()) s.bind(2, upper);
  std::vector<int64_t> ids;
  while (s.step()) ids.push_back(s.int64(0));
  return ids;
}

std::vector<int64_t> Catalog::ids_where(const SqlCondition& condition) {
  // One statement, always: the compiler writes no ';' (defence in depth, never reached).
  require(condition.sql.find(';') == std::string::npos, "a filter condition must be one expression");
  // A collection not yet opened by a writer of this version lacks the photo columns and the
  // attributes: its items then read as having none.
  const std::string sql =
      photo_ ? "SELECT id FROM items WHERE " + condition.sql + " ORDER BY id"
            : std::string("WITH attrs(id, key, type, value) AS (SELECT NULL, NULL, NULL, NULL "
                          "WHERE 0) SELECT id FROM (SELECT *, ") +
                  kPhotoNulls + " FROM items) WHERE " + condition.sql + " ORDER BY id";
  Stmt s(db_, sql.c_str());
  int at = 1;
  for (const auto& p : condition.params)
    std::visit([&](const auto& v) { s.bind(at++, v); }, p);
  std::vector<int64_t> ids;
  while (s.step()) ids.push_back(s.int64(0));
  return ids;
}

int64_t Catalog::count() {
  Stmt& s = st_->count;
  ResetOnExit r(s);
  s.step();
  return s.int64(0);
}

void Catalog::scan_vectors(size_t dim, size_t chunk,
                           const std::function<void(const int64_t*, const float*, size_t)>& fn) {
  std::vector<int64_t> ids;
  std::vector<float> vecs;
  int64_t after = -1;
  for (;;) {
    ids.clear();
    vecs.resize(chunk * dim);
    {
      Stmt& s = st_->scan_vectors;
      ResetOnExit r(s);
      s.bind(1, after).bind(2, static_cast<int64_t>(chunk));
      while (s.step()) {
        int64_t id = s.int64(0);
        read_vector(s, 1, id, vecs.data() + ids.size() * dim, dim);
        ids.push_back(id);
      }
    }
    if (ids.empty()) return;
    fn(ids.data(), vecs.data(), ids.size());
    after = ids.back();
    if (ids.size() < chunk) return;
  }
}

void Catalog::changes_after(int64_t seq, size_t dim,
                            const std::function<void(int64_t, const float*)>& upserted,
                            const std::function<void(int64_t)>& removed) {
  {
    Stmt& s = st_->removed_after;
    ResetOnExit r(s);
    s.bind(1, seq);
    while (s.step()) removed(s.int64(0));
  }
  Stmt& s = st_->upserted_after;
  ResetOnExit r(s);
  s.bind(1, seq);
  std::vector<float> vec(dim);
  while (s.step()) {
    int64_t id = s.int64(0);
    if (s.is_null(1))
      fail(CBIR_ECORRUPT, "item " + std::to_string(id) + " in " + path() +
                              " has no vector; the catalog is damaged");
    read_vector(s, 1, id, vec.data(), dim);
    upserted(id, vec.data());
  }
}

void Catalog::wait_for_background_checkpoint() {
  if (checkpointer_) checkpointer_->wait_idle();
}

void Catalog::checkpoint() {
  sqlite3_wal_checkpoint_v2(db_.raw(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
}

std::string Catalog::integrity_problems() {
  Stmt s(db_, "PRAGMA integrity_check");
  std::string out;
  while (s.step()) {
    std::string line = s.text(0);
    if (line != "ok") out += (out.empty() ? "" : "; ") + line;
  }
  return out;
}

}  // namespace cbir::store
