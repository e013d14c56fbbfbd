// Vector spaces besides the first: their settings in `spaces`, their vectors in `space_vectors`
// (one row per space and item, checksummed like the first space's, stamped with the change's
// seq so that each space's snapshot can be brought up to date as the first one's is). Writes
// join the writer's open transaction: an item and its vectors in every space commit together.
#include <cstring>

#include "common/error.hpp"
#include "store/catalog.hpp"
#include "store/checksum.hpp"

namespace cbir::store {

namespace {

constexpr const char* kDefaultSpace = "default";

}  // namespace

struct Catalog::SpaceStatements {
  explicit SpaceStatements(Db& db)
      : write(db, "INSERT OR REPLACE INTO space_vectors(space, id, vector, sum, seq) "
                  "VALUES (?1, ?2, ?3, ?4, ?5)"),
        remove(db, "DELETE FROM space_vectors WHERE id = ?1"),
        read(db, "SELECT vector, sum FROM space_vectors WHERE space = ?1 AND id = ?2"),
        has_item(db, "SELECT 1 FROM items WHERE id = ?1") {}
  Stmt write, remove, read, has_item;
};

void Catalog::SpaceStatementsFree::operator()(SpaceStatements* s) const { delete s; }

Catalog::SpaceStatements& Catalog::space_statements() {
  if (!sp_) sp_.reset(new SpaceStatements(db_));
  return *sp_;
}

bool Catalog::has_item(int64_t id) {
  Stmt& s = space_statements().has_item;
  ResetOnExit r(s);
  s.bind(1, id);
  return s.step();
}

const char* const Catalog::kSpaceSchema = R"sql(
CREATE TABLE IF NOT EXISTS spaces(
  name TEXT PRIMARY KEY, dim INTEGER NOT NULL, fingerprint TEXT NOT NULL,
  index_spec TEXT NOT NULL, generation INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS space_vectors(
  space TEXT NOT NULL, id INTEGER NOT NULL, vector BLOB NOT NULL, sum INTEGER NOT NULL,
  seq INTEGER NOT NULL, UNIQUE(space, id));
CREATE INDEX IF NOT EXISTS space_vectors_by_seq ON space_vectors(space, seq);
CREATE INDEX IF NOT EXISTS space_vectors_by_id ON space_vectors(id);
)sql";

bool Catalog::has_spaces() {
  Stmt s(db_, "SELECT count(*) FROM sqlite_master WHERE name = 'space_vectors'");
  s.step();
  return s.int64(0) > 0;
}

std::string Catalog::primary_space() {
  Stmt s(db_, "SELECT value FROM meta WHERE key = 'space'");
  return s.step() ? s.text(0) : kDefaultSpace;
}

std::vector<SpaceMeta> Catalog::spaces() {
  std::vector<SpaceMeta> out;
  if (!spaces_) return out;
  Stmt s(db_, "SELECT name, dim, fingerprint, index_spec, generation FROM spaces ORDER BY name");
  while (s.step()) {
    SpaceMeta m;
    m.name = s.text(0);
    const int64_t dim = s.int64(1);
    if (dim <= 0 || dim > 65536)
      fail(CBIR_ECORRUPT, "the collection catalog " + path() + " gives the space '" + m.name +
                              "' an invalid dimension " + std::to_string(dim));
    m.dim = static_cast<int32_t>(dim);
    m.fingerprint = s.text(2);
    m.index_spec = s.text(3);
    m.generation = s.int64(4);
    out.push_back(std::move(m));
  }
  return out;
}

void Catalog::add_space(const SpaceMeta& m) {
  Stmt s(db_, "INSERT INTO spaces(name, dim, fingerprint, index_spec, generation) "
              "VALUES (?1, ?2, ?3, ?4, ?5)");
  s.bind(1, m.name).bind(2, int64_t{m.dim}).bind(3, m.fingerprint).bind(4, m.index_spec);
  s.bind(5, m.generation).run();
}

void Catalog::set_space_index(const std::string& space, const std::string& spec, int64_t generation) {
  Stmt s(db_, "UPDATE spaces SET index_spec = ?2, generation = ?3 WHERE name = ?1");
  s.bind(1, space).bind(2, spec).bind(3, generation).run();
}

void Catalog::write_space_vector(const std::string& space, int64_t id, const float* vec,
                                 size_t dim, int64_t seq) {
  const size_t bytes = dim * sizeof(float);
  const uint64_t sum = checksum_of(vec, bytes);
  int64_t stored;
  std::memcpy(&stored, &sum, sizeof stored);
  Stmt& s = space_statements().write;
  s.bind(1, space).bind(2, id).bind_blob(3, vec, bytes).bind(4, stored).bind(5, seq).run();
}

void Catalog::delete_space_vectors(int64_t id) {
  if (!spaces_) return;
  space_statements().remove.bind(1, id).run();
}

bool Catalog::space_vector(const std::string& space, int64_t id, float* out, size_t dim) {
  if (!spaces_) return false;
  Stmt& s = space_statements().read;
  ResetOnExit r(s);
  s.bind(1, space).bind(2, id);
  if (!s.step()) return false;
  read_vector(s, 0, id, out, dim);
  return true;
}

int64_t Catalog::space_count(const std::string& space) {
  if (!spaces_) return 0;
  Stmt s(db_, "SELECT count(*) FROM space_vectors WHERE space = ?1");
  s.bind(1, space).step();
  return s.int64(0);
}

void Catalog::scan_space_vectors(const std::string& space, size_t dim, size_t chunk,
                                 const std::function<void(const int64_t*, const float*, size_t)>& fn) {
  if (!spaces_) return;
  Stmt s(db_, "SELECT id, vector, sum FROM space_vectors WHERE space = ?1 AND id > ?2 "
              "ORDER BY id LIMIT ?3");
  std::vector<int64_t> ids;
  std::vector<float> vecs(chunk * dim);
  for (int64_t after = -1;;) {
    ids.clear();
    s.bind(1, space).bind(2, after).bind(3, static_cast<int64_t>(chunk));
    {
      ResetOnExit r(s);
      while (s.step()) {
        const int64_t id = s.int64(0);
        read_vector(s, 1, id, vecs.data() + ids.size() * dim, dim);
        ids.push_back(id);
      }
    }
    if (ids.empty()) return;
    fn(ids.data(), vecs.data(), ids.size());
    if (ids.size() < chunk) return;
    after = ids.back();
  }
}

void Catalog::space_changes_after(const std::string& space, int64_t seq, size_t dim,
                                  const std::function<void(int64_t, const float*)>& upserted,
                                  const std::function<void(int64_t)>& removed) {
  if (!spaces_) return;
  {
    Stmt s(db_, "SELECT id FROM removed WHERE seq > ?1 UNION ALL "
                "SELECT items.id FROM items WHERE items.seq > ?1 AND NOT EXISTS "
                "(SELECT 1 FROM space_vectors v WHERE v.space = ?2 AND v.id = items.id)");
    s.bind(1, seq).bind(2, space);
    while (s.step()) removed(s.int64(0));
  }
  Stmt s(db_, "SELECT id, vector, sum FROM space_vectors WHERE space = ?1 AND seq > ?2 ORDER BY seq");
  s.bind(1, space).bind(2, seq);
  std::vector<float> vec(dim);
  while (s.step()) {
    const int64_t id = s.int64(0);
    read_vector(s, 1, id, vec.data(), dim);
    upserted(id, vec.data());
  }
}

std::vector<int64_t> Catalog::space_ids(const std::string& space) {
  std::vector<int64_t> ids;
  if (!spaces_) return ids;
  Stmt s(db_, "SELECT id FROM space_vectors WHERE space = ?1 ORDER BY id");
  s.bind(1, space);
  while (s.step()) ids.push_back(s.int64(0));
  return ids;
}

Catalog::VectorCheck Catalog::check_space_vectors(const std::string& space) {
  VectorCheck out;
  if (!spaces_) return out;
  Stmt s(db_, "SELECT id, vector, sum FROM space_vectors WHERE space = ?1");
  s.bind(1, space);
  while (s.step()) {
    ++out.checked;
    if (!sum_matches(s, 1)) out.damaged.push_back(s.int64(0));
  }
  return out;
}

}  // namespace cbir::store
