// The C API of vector spaces: argument checks and conversions around the store's spaces.
#include <string>
#include <vector>

#include "c_api/block.hpp"
#include "c_api/collection.hpp"
#include "c_api/guard.hpp"

using cbir::capi::guard;
using cbir::capi::need;

namespace {

cbir::store::Collection& impl(const cbir_collection_t* coll) {
  return *need(coll, "coll")->impl;
}

std::string name_or_first(const char* space) { return space ? space : ""; }

}  // namespace

extern "C" {

int cbir_collection_add_space(cbir_collection_t* coll, const char* name, int32_t dim,
                              const char* fingerprint, const char* index_spec) {
  return guard([&] {
    auto& c = impl(coll);
    need(name, "name");
    need(fingerprint, "fingerprint");
    c.add_space(name, dim, fingerprint, index_spec ? index_spec : "auto");
  });
}

int cbir_collection_add_spaces(int64_t* out_ids, cbir_collection_t* coll,
                               const cbir_item_t* items, size_t n,
                               const cbir_space_vectors_t* spaces, size_t n_spaces,
                               int32_t upsert) {
  return guard([&] {
    auto& c = impl(coll);
    if (n > 0) need(items, "items");
    if (n_spaces > 0) need(spaces, "spaces");
    if (upsert != 0 && upsert != 1) cbir::fail(CBIR_EINVAL, "upsert must be 0 or 1");
    const std::string first = c.space("").name;
    const float* first_vectors = nullptr;
    size_t first_dim = 0;
    bool have_first = false;
    std::vector<cbir::store::SpaceVectors> others;
    for (size_t i = 0; i < n_spaces; ++i) {
      const cbir_space_vectors_t& s = spaces[i];
      if (n > 0 && s.vectors == nullptr)
        cbir::fail(CBIR_EINVAL, "spaces[" + std::to_string(i) + "].vectors must not be NULL");
      if (s.space == nullptr || first == s.space) {
        if (have_first) cbir::fail(CBIR_EINVAL, "the space '" + first + "' is given twice");
        have_first = true;
        first_vectors = s.vectors;
        first_dim = s.dim;
      } else {
        others.push_back({s.space, s.vectors, s.dim});
      }
    }
    if (!have_first)
      cbir::fail(CBIR_EINVAL, "spaces must include the collection's first space '" + first +
                                  "' (its entry's space may be NULL)");
    const auto converted = cbir::capi::to_items(items, n);
    const std::vector<int64_t> ids = c.add(converted.data(), first_vectors, n, first_dim,
                                           upsert == 1, others.data(), others.size());
    if (out_ids != nullptr) std::copy(ids.begin(), ids.end(), out_ids);
  });
}

int cbir_collection_set_space_vectors(cbir_collection_t* coll, const char* space,
                                      const int64_t* ids, const float* vectors, size_t n,
                                      size_t dim) {
  return guard([&] {
    auto& c = impl(coll);
    need(space, "space");
    if (n > 0) {
      need(ids, "ids");
      need(vectors, "vectors");
    }
    c.set_space_vectors(space, ids, vectors, n, dim);
  });
}

int cbir_collection_get_space_vector(float* out, size_t dim, const cbir_collection_t* coll,
                                     const char* space, int64_t id) {
  return guard([&] {
    need(out, "out");
    auto& c = impl(coll);
    if (!c.vector(id, out, dim, name_or_first(space)))
      cbir::fail(CBIR_ENOTFOUND, "there is no item with id " + std::to_string(id) +
                                     (space ? std::string(" with a vector in the space '") + space + "'" : ""));
  });
}

int cbir_collection_rebuild_space(cbir_collection_t* coll, const char* space,
                                  const char* index_spec) {
  return guard([&] {
    auto& c = impl(coll);
    if (index_spec != nullptr && index_spec[0] == '\0')
      cbir::fail(CBIR_EINVAL, "index_spec must not be empty (NULL keeps the current spec)");
    c.rebuild(index_spec ? index_spec : "", name_or_first(space));
  });
}

int cbir_collection_spaces(cbir_space_info_t** out, size_t* out_n, const cbir_collection_t* coll) {
  if (out != nullptr) *out = nullptr;
  if (out_n != nullptr) *out_n = 0;
  return guard([&] {
    need(out, "out");
    need(out_n, "out_n");
    const std::vector<cbir::store::SpaceInfo> spaces = impl(coll).spaces();
    std::vector<const std::string*> strings;
    for (const auto& s : spaces)
      for (const std::string* p : {&s.name, &s.fingerprint, &s.index_spec, &s.effective_spec})
        strings.push_back(p);
    cbir::capi::Block b(spaces.size() * sizeof(cbir_space_info_t), strings);
    auto* o = b.head<cbir_space_info_t>();
    for (size_t i = 0; i < spaces.size(); ++i) {
      o[i].name = b.put(spaces[i].name);
      o[i].fingerprint = b.put(spaces[i].fingerprint);
      o[i].index_spec = b.put(spaces[i].index_spec);
      o[i].effective_spec = b.put(spaces[i].effective_spec);
      o[i].dim = spaces[i].dim;
      o[i].first = i == 0 ? 1 : 0;
      o[i].count = spaces[i].count;
      o[i].generation = spaces[i].generation;
    }
    *out = reinterpret_cast<cbir_space_info_t*>(b.release());
    *out_n = spaces.size();
  });
}

}  // extern "C"
