// The collection's C API: argument checks and conversions around cbir::store::Collection.
#include "c_api/collection.hpp"

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "c_api/block.hpp"
#include "c_api/guard.hpp"
#include "query/filter.hpp"
#include "store/backup.hpp"

using cbir::capi::Block;
using cbir::capi::guard;
using cbir::capi::need;

namespace {

constexpr cbir_collection_options_t kCollectionDefaults = CBIR_COLLECTION_OPTIONS_INIT;
constexpr cbir_search_options_t kSearchDefaults = CBIR_SEARCH_OPTIONS_INIT;

cbir::store::Collection& impl(const cbir_collection_t* coll) {
  return *need(coll, "coll")->impl;
}

}  // namespace

namespace cbir::capi {

std::vector<cbir::store::ItemInfo> to_items(const cbir_item_t* items, size_t n) {
  std::vector<cbir::store::ItemInfo> out(n);
  for (size_t i = 0; i < n; ++i) {
    const cbir_item_t& in = items[i];
    if (in.uri == nullptr)
      cbir::fail(CBIR_EINVAL, "items[" + std::to_string(i) + "].uri must not be NULL");
    out[i].uri = in.uri;
    out[i].content_hash = in.content_hash ? in.content_hash : "";
    out[i].size = in.size;
    out[i].mtime = in.mtime;
    out[i].width = in.width;
    out[i].height = in.height;
    out[i].payload = in.payload ? in.payload : "";
  }
  return out;
}

}  // namespace cbir::capi

namespace {

using cbir::capi::to_items;

int add_items(int64_t* out_ids, cbir_collection_t* coll, const cbir_item_t* items,
              const float* vectors, size_t n, size_t dim, bool upsert) {
  return guard([&] {
    auto& c = impl(coll);
    if (n > 0) {
      need(items, "items");
      need(vectors, "vectors");
    }
    const auto converted = to_items(items, n);
    const std::vector<int64_t> ids = c.add(converted.data(), vectors, n, dim, upsert);
    if (out_ids != nullptr) std::copy(ids.begin(), ids.end(), out_ids);
  });
}


}  // namespace

namespace cbir::capi {

Search to_search(const cbir_search_options_t* given) {
  const cbir_search_options_t o =
      cbir::capi::options_or_default(given, kSearchDefaults, "search options");
  Search s;
  s.min_score = o.min_score;
  if (o.uri_prefix) s.filter.uri_prefix = std::string(o.uri_prefix);
  if (o.ids) s.filter.ids = std::vector<int64_t>(o.ids, o.ids + o.n_ids);
  else if (o.n_ids != 0) cbir::fail(CBIR_EINVAL, "search options: n_ids is set but ids is NULL");
  s.knobs.ef_search = o.ef_search;
  s.knobs.nprobe = o.nprobe;
  if (o.where) s.filter.where = cbir::query::compile_filter(o.where);
  if (o.space) s.space = o.space;
  return s;
}

}  // namespace cbir::capi

using cbir::capi::Search;
using cbir::capi::to_search;

extern "C" {

void cbir_collection_options_init_size(cbir_collection_options_t* opts, size_t size) {
  cbir::capi::init_options(opts, size, kCollectionDefaults);
}

// The names in parentheses: the header makes them macros for programs built against it.
void(cbir_collection_options_init)(cbir_collection_options_t* opts) {
  cbir::capi::init_options(opts, offsetof(cbir_collection_options_t, space), kCollectionDefaults);
}

void cbir_search_options_init_size(cbir_search_options_t* opts, size_t size) {
  cbir::capi::init_options(opts, size, kSearchDefaults);
}

void(cbir_search_options_init)(cbir_search_options_t* opts) {
  cbir::capi::init_options(opts, offsetof(cbir_search_options_t, space), kSearchDefaults);
}

int cbir_collection_open(cbir_collection_t** out, const char* path,
                         const cbir_collection_options_t* opts) {
  if (out != nullptr) *out = nullptr;
  return guard([&] {
    need(out, "out");
    need(path, "path");
    const cbir_collection_options_t o =
        cbir::capi::options_or_default(opts, kCollectionDefaults, "collection options");
    if ((o.flags & ~(CBIR_OPEN_CREATE | CBIR_OPEN_READONLY)) != 0)
      cbir::fail(CBIR_EINVAL, "collection options: unknown flags " + std::to_string(o.flags));
    if (o.memory_budget_mb > (UINT64_MAX >> 20))
      cbir::fail(CBIR_EINVAL, "collection options: memory_budget_mb is too large");
    cbir::store::OpenOptions oo;
    oo.create = (o.flags & CBIR_OPEN_CREATE) != 0;
    oo.read_only = (o.flags & CBIR_OPEN_READONLY) != 0;
    oo.dim = o.dim;
    if (o.fingerprint) oo.fingerprint = std::string(o.fingerprint);
    if (o.index_spec) oo.index_spec = o.index_spec;
    if (o.space) oo.space = o.space;
    oo.memory_budget = o.memory_budget_mb << 20;
    if (o.dim < 0) cbir::fail(CBIR_EINVAL, "collection options: dim must not be negative");
    auto handle = std::make_unique<cbir_collection_t>();
    handle->impl = std::make_unique<cbir::store::Collection>(path, oo);
    *out = handle.release();
  });
}

void cbir_collection_close(cbir_collection_t* coll) {
  delete coll;  // a writer commits and saves; failures go to the log callback
}

int cbir_collection_add(int64_t* out_ids, cbir_collection_t* coll, const cbir_item_t* items,
                        const float* vectors, size_t n, size_t dim) {
  return add_items(out_ids, coll, items, vectors, n, dim, false);
}

int cbir_collection_upsert(int64_t* out_ids, cbir_collection_t* coll, const cbir_item_t* items,
                           const float* vectors, size_t n, size_t dim) {
  return add_items(out_ids, coll, items, vectors, n, dim, true);
}

int cbir_collection_remove(size_t* out_removed, cbir_collection_t* coll, const int64_t* ids,
                           size_t n) {
  return guard([&] {
    auto& c = impl(coll);
    if (n > 0) need(ids, "ids");
    const size_t removed = c.remove(ids, n);
    if (out_removed != nullptr) *out_removed = removed;
  });
}

int cbir_collection_remove_uri(cbir_collection_t* coll, const char* uri) {
  return guard([&] {
    auto& c = impl(coll);
    need(uri, "uri");
    if (!c.remove_uri(uri))
      cbir::fail(CBIR_ENOTFOUND, std::string("there is no item with uri '") + uri + "'");
  });
}

int cbir_collection_get(cbir_item_t** out, const cbir_collection_t* coll, int64_t id) {
  if (out != nullptr) *out = nullptr;
  return guard([&] {
    need(out, "out");
    auto item = impl(coll).get(id);
    if (!item) cbir::fail(CBIR_ENOTFOUND, "there is no item with id " + std::to_string(id));
    Block b(sizeof(cbir_item_t), {&item->uri, &item->content_hash, &item->payload});
    cbir_item_t* it = b.head<cbir_item_t>();
    it->id = item->id;
    it->uri = b.put(item->uri);
    it->content_hash = b.put(item->content_hash);
    it->payload = b.put(item->payload);
    it->size = item->size;
    it->mtime = item->mtime;
    it->width = item->width;
    it->height = item->height;
    *out = reinterpret_cast<cbir_item_t*>(b.release());
  });
}

int cbir_collection_find(int64_t* out_id, const cbir_collection_t* coll, const char* uri) {
  return guard([&] {
    need(out_id, "out_id");
    auto& c = impl(coll);
    need(uri, "uri");
    auto id = c.find_uri(uri);
    if (!id) cbir::fail(CBIR_ENOTFOUND, std::string("there is no item with uri '") + uri + "'");
    *out_id = *id;
  });
}

int cbir_collection_get_vector(float* out, size_t dim, const cbir_collection_t* coll,
                               int64_t id) {
  return guard([&] {
    need(out, "out");
    if (!impl(coll).vector(id, out, dim))
      cbir::fail(CBIR_ENOTFOUND, "there is no item with id " + std::to_string(id));
  });
}

int cbir_collection_list(int64_t* out_ids, size_t* out_n, const cbir_collection_t* coll,
                         int64_t after_id, size_t capacity) {
  if (out_n != nullptr) *out_n = 0;
  return guard([&] {
    need(out_n, "out_n");
    if (capacity > 0) need(out_ids, "out_ids");
    auto& c = impl(coll);
    if (capacity == 0) return;
    const std::vector<int64_t> ids = c.ids_after(after_id, capacity);
    std::copy(ids.begin(), ids.end(), out_ids);
    *out_n = ids.size();
  });
}

int cbir_collection_count(uint64_t* out, const cbir_collection_t* coll) {
  return guard([&] {
    need(out, "out");
    *out = impl(coll).count();
  });
}

int cbir_collection_search(int64_t* out_ids, float* out_scores, const cbir_collection_t* coll,
                           const float* queries, size_t n_queries, size_t dim, size_t k,
                           const cbir_search_options_t* opts) {
  return guard([&] {
    need(out_ids, "out_ids");
    need(out_scores, "out_scores");
    auto& c = impl(coll);
    if (n_queries > 0) need(queries, "queries");
    const Search s = to_search(opts);
    c.search(queries, n_queries, dim, k, s.filter, s.min_score, s.knobs, out_scores, out_ids, s.space);
  });
}

int cbir_collection_search_similar(int64_t* out_ids, float* out_scores,
                                   const cbir_collection_t* coll, int64_t id, size_t k,
                                   const cbir_search_options_t* opts) {
  return guard([&] {
    need(out_ids, "out_ids");
    need(out_scores, "out_scores");
    auto& c = impl(coll);
    const Search s = to_search(opts);
    c.similar(id, k, s.filter, s.min_score, s.knobs, out_scores, out_ids, s.space);
  });
}

int cbir_collection_range_search(int64_t** out_ids, float** out_scores, size_t* out_n,
                                 const cbir_collection_t* coll, const float* query, size_t dim,
                                 float min_score, const cbir_search_options_t* opts) {
  if (out_ids != nullptr) *out_ids = nullptr;
  if (out_scores != nullptr) *out_scores = nullptr;
  if (out_n != nullptr) *out_n = 0;
  return guard([&] {
    need(out_ids, "out_ids");
    need(out_scores, "out_scores");
    need(out_n, "out_n");
    auto& c = impl(coll);
    need(query, "query");
    const Search s = to_search(opts);
    const auto hits = c.range(query, dim, min_score, s.filter, s.knobs, s.space);
    if (hits.empty()) return;
    auto* ids = static_cast<int64_t*>(std::malloc(hits.size() * sizeof(int64_t)));
    auto* scores = static_cast<float*>(std::malloc(hits.size() * sizeof(float)));
    if (ids == nullptr || scores == nullptr) {
      std::free(ids);
      std::free(scores);
      throw std::bad_alloc();
    }
    for (size_t i = 0; i < hits.size(); ++i) {
      scores[i] = hits[i].first;
      ids[i] = hits[i].second;
    }
    *out_ids = ids;
    *out_scores = scores;
    *out_n = hits.size();
  });
}

int cbir_collection_commit(cbir_collection_t* coll) {
  return guard([&] { impl(coll).commit(); });
}

int cbir_collection_save(cbir_collection_t* coll) {
  return guard([&] { impl(coll).save(); });
}

int cbir_collection_refresh(cbir_collection_t* coll) {
  return guard([&] { impl(coll).refresh(); });
}

int cbir_collection_rebuild(cbir_collection_t* coll, const char* index_spec) {
  return guard([&] {
    auto& c = impl(coll);
    if (index_spec != nullptr && index_spec[0] == '\0')
      cbir::fail(CBIR_EINVAL, "index_spec must not be empty (NULL keeps the current spec)");
    c.rebuild(index_spec ? index_spec : "");
  });
}

int cbir_collection_compact(cbir_collection_t* coll) {
  return guard([&] { impl(coll).compact(); });
}

int cbir_collection_verify(cbir_collection_t* coll) {
  return guard([&] { impl(coll).verify(); });
}

int cbir_collection_verify_report(cbir_collection_t* coll, cbir_verify_fn fn, void* user) {
  return guard([&] {
    std::string first;
    const int status = impl(coll).verify_report([&](const char* check, int s, const std::string& m) {
      if (s != CBIR_OK && first.empty()) first = m;
      if (fn) fn(user, check, s, m.c_str());  // a C callback: it cannot throw
    });
    if (status != CBIR_OK) cbir::fail(status, first);
  });
}

int cbir_collection_backup(const cbir_collection_t* coll, const char* dest) {
  return guard([&] {
    need(dest, "dest");
    if (dest[0] == '\0') cbir::fail(CBIR_EINVAL, "dest must not be empty");
    cbir::store::backup_collection(impl(coll).info().path, dest);
  });
}

int cbir_collection_info(cbir_collection_info_t** out, const cbir_collection_t* coll) {
  if (out != nullptr) *out = nullptr;
  return guard([&] {
    need(out, "out");
    const cbir::store::CollectionInfo i = impl(coll).info();
    Block b(sizeof(cbir_collection_info_t),
            {&i.path, &i.fingerprint, &i.index_spec, &i.effective_spec});
    auto* o = b.head<cbir_collection_info_t>();
    o->path = b.put(i.path);
    o->fingerprint = b.put(i.fingerprint);
    o->index_spec = b.put(i.index_spec);
    o->effective_spec = b.put(i.effective_spec);
    o->dim = i.dim;
    o->read_only = i.read_only ? 1 : 0;
    o->count = i.count;
    o->masked = i.masked;
    o->seq = i.seq;
    o->generation = i.generation;
    *out = reinterpret_cast<cbir_collection_info_t*>(b.release());
  });
}

}  // extern "C"
