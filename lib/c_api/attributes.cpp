// The C API of photo facts and user attributes: conversions around
// cbir::store::Collection::get / write_attrs / attrs.
#include <string>
#include <vector>

#include "c_api/block.hpp"
#include "c_api/collection.hpp"
#include "c_api/guard.hpp"

using cbir::capi::Block;
using cbir::capi::guard;
using cbir::capi::need;
using cbir::store::AttrValue;

namespace {

cbir::store::Collection& impl(const cbir_collection_t* coll) { return *need(coll, "coll")->impl; }

AttrValue to_value(const cbir_attr_t& a, size_t i) {
  AttrValue v;
  switch (a.type) {
    case CBIR_ATTR_STRING: v.s = a.string_value ? a.string_value : ""; break;
    case CBIR_ATTR_INT:
    case CBIR_ATTR_BOOL:
    case CBIR_ATTR_TIME: v.i = a.int_value; break;
    case CBIR_ATTR_FLOAT: v.r = a.float_value; break;
    default:
      cbir::fail(CBIR_EINVAL, "attrs[" + std::to_string(i) + "].type is " + std::to_string(a.type) +
                                  "; use a CBIR_ATTR_* value (CBIR_ATTR_NONE removes the key)");
  }
  v.type = static_cast<AttrValue::Type>(a.type);
  return v;
}

}  // namespace

extern "C" {

int cbir_collection_get_photo(cbir_photo_t** out, const cbir_collection_t* coll, int64_t id) {
  if (out != nullptr) *out = nullptr;
  return guard([&] {
    need(out, "out");
    auto item = impl(coll).get(id);
    if (!item) cbir::fail(CBIR_ENOTFOUND, "there is no item with id " + std::to_string(id));
    const cbir::PhotoMeta& p = item->photo;
    Block b(sizeof(cbir_photo_t), {&p.format, &p.make, &p.model});
    cbir_photo_t* o = b.head<cbir_photo_t>();
    o->format = b.put(p.format);
    o->make = b.put(p.make);
    o->model = b.put(p.model);
    o->has_taken = p.taken.has_value();
    o->taken = p.taken.value_or(0);
    o->has_offset = p.taken_offset.has_value();
    o->offset_minutes = p.taken_offset.value_or(0);
    o->has_location = p.lat && p.lon;
    o->lat = p.lat.value_or(0);
    o->lon = p.lon.value_or(0);
    *out = reinterpret_cast<cbir_photo_t*>(b.release());
  });
}

int cbir_collection_set_attrs(size_t* out_changed, cbir_collection_t* coll,
                              const cbir_attr_t* attrs, size_t n) {
  if (out_changed != nullptr) *out_changed = 0;
  return guard([&] {
    auto& c = impl(coll);
    if (n > 0) need(attrs, "attrs");
    std::vector<cbir::store::Collection::AttrWrite> writes(n);
    for (size_t i = 0; i < n; ++i) {
      if (attrs[i].key == nullptr)
        cbir::fail(CBIR_EINVAL, "attrs[" + std::to_string(i) + "].key must not be NULL");
      writes[i].id = attrs[i].id;
      writes[i].key = attrs[i].key;
      if (attrs[i].type != CBIR_ATTR_NONE) writes[i].value = to_value(attrs[i], i);
    }
    const size_t changed = c.write_attrs(writes.data(), n);
    if (out_changed != nullptr) *out_changed = changed;
  });
}

int cbir_collection_get_attrs(cbir_attr_t** out, size_t* out_n, const cbir_collection_t* coll,
                              int64_t id) {
  if (out != nullptr) *out = nullptr;
  if (out_n != nullptr) *out_n = 0;
  return guard([&] {
    need(out, "out");
    need(out_n, "out_n");
    const auto attrs = impl(coll).attrs(id);
    if (attrs.empty()) return;
    std::vector<const std::string*> strings;
    for (const auto& [key, v] : attrs) {
      strings.push_back(&key);
      strings.push_back(&v.s);
    }
    Block b(sizeof(cbir_attr_t) * attrs.size(), strings);
    cbir_attr_t* o = b.head<cbir_attr_t>();
    for (size_t i = 0; i < attrs.size(); ++i) {
      const AttrValue& v = attrs[i].second;
      o[i].id = id;
      o[i].key = b.put(attrs[i].first);
      o[i].string_value = b.put(v.s);
      o[i].type = static_cast<int32_t>(v.type);
      o[i].int_value = v.i;
      o[i].float_value = v.r;
    }
    *out = reinterpret_cast<cbir_attr_t*>(b.release());
    *out_n = attrs.size();
  });
}

}  // extern "C"
