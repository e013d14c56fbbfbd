// The C API of composite queries: each part's vector through the model or the collection,
// summed by lib/query's weighted_sum.
#include <algorithm>
#include <functional>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "c_api/collection.hpp"
#include "c_api/guard.hpp"
#include "c_api/model.hpp"
#include "query/compose.hpp"
#include "query/duplicates.hpp"

using cbir::capi::guard;
using cbir::capi::need;

namespace {

// A model call's failure, re-thrown naming the part.
void check_part(int status, size_t i) {
  if (status != CBIR_OK)
    cbir::fail(status, "part " + std::to_string(i) + ": " + cbir_last_error());
}

}  // namespace

extern "C" int cbir_query_compose(float* out, size_t dim, const cbir_model_t* model,
                                  const cbir_collection_t* coll, const cbir_query_part_t* parts,
                                  size_t n) {
  return guard([&] {
    need(out, "out");
    if (n > 0) need(parts, "parts");
    std::vector<std::vector<float>> vectors;
    std::vector<const float*> rows;
    std::vector<float> weights;
    for (size_t i = 0; i < n; ++i) {
      const cbir_query_part_t& p = parts[i];
      const std::string name = "part " + std::to_string(i);
      if (p.weight == 0) continue;
      std::vector<float> v(dim);
      int32_t status = CBIR_OK;
      const bool needs_model = p.kind == CBIR_PART_TEXT || p.kind == CBIR_PART_IMAGE_FILE ||
                               p.kind == CBIR_PART_IMAGE_BUFFER;
      if (needs_model) {
        if (model == nullptr) cbir::fail(CBIR_EINVAL, name + " needs a model (model is NULL)");
        const int model_dim = cbir::capi::model_of(model).dim();
        if (static_cast<size_t>(model_dim) != dim)
          cbir::fail(CBIR_EMISMATCH, "dim is " + std::to_string(dim) + " but the model's vectors have " +
                                         std::to_string(model_dim) + " dimensions");
        if (p.kind != CBIR_PART_IMAGE_BUFFER && p.text == nullptr)
          cbir::fail(CBIR_EINVAL, name + ": text is NULL");
      }
      switch (p.kind) {
        case CBIR_PART_TEXT: check_part(cbir_model_embed_texts(v.data(), model, &p.text, 1), i); break;
        case CBIR_PART_IMAGE_FILE:
          check_part(cbir_model_embed_image_files(v.data(), &status, model, &p.text, 1), i);
          if (status != CBIR_OK) cbir::fail(status, name + ": " + cbir_model_item_error(0));
          break;
        case CBIR_PART_IMAGE_BUFFER:
          check_part(cbir_model_embed_image_buffers(v.data(), &status, model, &p.data, &p.size, 1), i);
          if (status != CBIR_OK) cbir::fail(status, name + ": " + cbir_model_item_error(0));
          break;
        case CBIR_PART_ITEM:
          if (coll == nullptr) cbir::fail(CBIR_EINVAL, name + " is an item: it needs the collection (coll is NULL)");
          check_part(cbir_collection_get_vector(v.data(), dim, coll, p.id), i);
          break;
        case CBIR_PART_VECTOR:
          if (p.vector == nullptr) cbir::fail(CBIR_EINVAL, name + ": vector is NULL");
          v.assign(p.vector, p.vector + dim);
          break;
        default:
          cbir::fail(CBIR_EINVAL, name + ": unknown kind " + std::to_string(p.kind) +
                                      " (use a CBIR_PART_* value)");
      }
      vectors.push_back(std::move(v));
      weights.push_back(p.weight);
    }
    if (n > 0 && vectors.empty()) cbir::fail(CBIR_EINVAL, "every part has weight 0");
    for (const auto& v : vectors) rows.push_back(v.data());
    cbir::query::weighted_sum(rows, weights, dim, out);
  });
}

extern "C" int cbir_collection_duplicates(int64_t** out_ids, size_t** out_offsets,
                                          size_t* out_groups, const cbir_collection_t* coll,
                                          float min_score, const cbir_search_options_t* opts,
                                          cbir_count_fn progress, void* progress_user) {
  if (out_ids != nullptr) *out_ids = nullptr;
  if (out_offsets != nullptr) *out_offsets = nullptr;
  if (out_groups != nullptr) *out_groups = 0;
  return guard([&] {
    need(out_ids, "out_ids");
    need(out_offsets, "out_offsets");
    need(out_groups, "out_groups");
    auto& c = *need(coll, "coll")->impl;
    const cbir::capi::Search s = cbir::capi::to_search(opts);
    bool cancelled = false;
    std::function<bool(size_t, size_t)> step;
    if (progress != nullptr)
      step = [&](size_t done, size_t total) {
        cancelled = progress(progress_user, done, total) != 0;
        return !cancelled;
      };
    const auto groups = cbir::query::find_duplicates(c, min_score, s.filter, s.knobs, step, s.space);
    if (cancelled) cbir::fail(CBIR_ECANCELLED, "the duplicate search was cancelled by its progress callback");
    if (groups.count() == 0) return;
    auto* ids = static_cast<int64_t*>(std::malloc(groups.ids.size() * sizeof(int64_t)));
    auto* offsets = static_cast<size_t*>(std::malloc(groups.offsets.size() * sizeof(size_t)));
    if (ids == nullptr || offsets == nullptr) {
      std::free(ids);
      std::free(offsets);
      throw std::bad_alloc();
    }
    std::copy(groups.ids.begin(), groups.ids.end(), ids);
    std::copy(groups.offsets.begin(), groups.offsets.end(), offsets);
    *out_ids = ids;
    *out_offsets = offsets;
    *out_groups = groups.count();
  });
}
