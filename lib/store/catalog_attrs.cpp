// User attributes in the catalog's attrs table: one row per item and key, the value in SQLite's
// own type (TEXT, INTEGER or REAL) beside the attribute's type, which also tells booleans and
// timestamps from integers. Writes join the writer's open transaction like every item write.
#include "common/error.hpp"
#include "store/catalog.hpp"

namespace cbir::store {

void Catalog::set_attr(int64_t id, const std::string& key, const AttrValue& v) {
  Stmt s(db_, "INSERT OR REPLACE INTO attrs(id, key, type, value) VALUES (?1, ?2, ?3, ?4)");
  s.bind(1, id).bind(2, key).bind(3, static_cast<int64_t>(v.type));
  switch (v.type) {
    case AttrValue::Type::string: s.bind(4, v.s); break;
    case AttrValue::Type::real: s.bind(4, v.r); break;
    default: s.bind(4, v.i); break;
  }
  s.run();
}

bool Catalog::remove_attr(int64_t id, const std::string& key) {
  Stmt s(db_, "DELETE FROM attrs WHERE id = ?1 AND key = ?2");
  s.bind(1, id).bind(2, key).run();
  return db_.changes() > 0;
}

std::vector<std::pair<std::string, AttrValue>> Catalog::attrs(int64_t id) {
  std::vector<std::pair<std::string, AttrValue>> out;
  if (!photo_) return out;  // made by an older cbir, never opened by a writer since
  Stmt s(db_, "SELECT key, type, value FROM attrs WHERE id = ?1 ORDER BY key");
  s.bind(1, id);
  while (s.step()) {
    AttrValue v;
    const int64_t type = s.int64(1);
    if (type < 1 || type > 5)
      fail(CBIR_ECORRUPT, "attribute '" + s.text(0) + "' of item " + std::to_string(id) + " in " +
                              path() + " has an unknown type " + std::to_string(type) +
                              "; the catalog is damaged or written by a newer cbir");
    v.type = static_cast<AttrValue::Type>(type);
    if (v.type == AttrValue::Type::string)
      v.s = s.text(2);
    else if (v.type == AttrValue::Type::real)
      v.r = s.real(2);
    else
      v.i = s.int64(2);
    out.emplace_back(s.text(0), std::move(v));
  }
  return out;
}

}  // namespace cbir::store
