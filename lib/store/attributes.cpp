// User attributes of a collection's items: checked here, stored by the catalog
// (catalog_attrs.cpp), filtered on through lib/query's attr.NAME.
#include <cmath>

#include "common/error.hpp"
#include "store/collection.hpp"
#include "text/utf8.hpp"

namespace cbir::store {
namespace {

constexpr size_t kMaxKeyBytes = 128;
constexpr size_t kMaxStringBytes = 64 * 1024;

// Keys are what the filter language can name after "attr.": a letter or '_', then letters,
// digits, '_', '.' or '-'. Case matters.
void check_key(const std::string& key, size_t i) {
  const std::string where = "attribute " + std::to_string(i);
  if (key.empty() || key.size() > kMaxKeyBytes)
    fail(CBIR_EINVAL, where + ": a key must be 1 to " + std::to_string(kMaxKeyBytes) + " bytes");
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  bool ok = alpha(key[0]);
  for (char c : key) ok = ok && (alpha(c) || (c >= '0' && c <= '9') || c == '.' || c == '-');
  if (!ok)
    fail(CBIR_EINVAL, where + ": the key '" + key +
                          "' must start with a letter or '_' and hold only letters, digits, "
                          "'_', '.' and '-' (so that filters can name it as attr." + key + ")");
}

void check_value(const AttrValue& v, const std::string& key) {
  switch (v.type) {
    case AttrValue::Type::string: {
      text::Utf8Problem problem;
      if (v.s.size() > kMaxStringBytes)
        fail(CBIR_EINVAL, "attribute '" + key + "': a string value may hold at most " +
                              std::to_string(kMaxStringBytes) + " bytes");
      if (!text::check_utf8(v.s, problem))
        fail(CBIR_EINVAL, "attribute '" + key + "': the value is not valid UTF-8 (" +
                              problem.reason + " at byte " + std::to_string(problem.offset) + ")");
      break;
    }
    case AttrValue::Type::real:
      if (!std::isfinite(v.r)) fail(CBIR_EINVAL, "attribute '" + key + "': a float must be finite");
      break;
    case AttrValue::Type::boolean:
      if (v.i != 0 && v.i != 1) fail(CBIR_EINVAL, "attribute '" + key + "': a bool is 0 or 1");
      break;
    case AttrValue::Type::integer:
    case AttrValue::Type::timestamp: break;
    default: fail(CBIR_EINVAL, "attribute '" + key + "': unknown type");
  }
}

}  // namespace

size_t Collection::write_attrs(const AttrWrite* writes, size_t n) {
  require_writer("set attributes");
  for (size_t i = 0; i < n; ++i) {
    check_key(writes[i].key, i);
    if (writes[i].value) check_value(*writes[i].value, writes[i].key);
  }
  std::lock_guard w(write_mu_);
  std::lock_guard db(db_mu_);
  if (n == 0) return 0;
  size_t changed = 0;
  catalog_->begin_write();
  catalog_->savepoint();
  try {
    for (size_t i = 0; i < n; ++i) {
      const AttrWrite& a = writes[i];
      if (!catalog_->get(a.id))
        fail(CBIR_ENOTFOUND, "attribute " + std::to_string(i) + " ('" + a.key + "'): no item " +
                                 std::to_string(a.id) + " in the collection " + dir_);
      if (a.value) {
        catalog_->set_attr(a.id, a.key, *a.value);
        ++changed;
      } else if (catalog_->remove_attr(a.id, a.key)) {
        ++changed;
      }
    }
  } catch (...) {
    catalog_->rollback_to();
    throw;
  }
  catalog_->release();
  return changed;
}

std::vector<std::pair<std::string, AttrValue>> Collection::attrs(int64_t id) {
  std::lock_guard db(db_mu_);
  if (!catalog_->get(id))
    fail(CBIR_ENOTFOUND, "no item " + std::to_string(id) + " in the collection " + dir_);
  return catalog_->attrs(id);
}

}  // namespace cbir::store
