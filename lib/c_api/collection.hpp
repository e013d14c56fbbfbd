// What a cbir_collection_t handle holds, for other lib/c_api files that take one (ingest).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cbir.h"
#include "store/collection.hpp"

struct cbir_collection_t {
  std::unique_ptr<cbir::store::Collection> impl;
};

namespace cbir::capi {

// Search options in the store's terms (the filter expression compiled).
struct Search {
  store::SearchFilter filter;
  store::SearchKnobs knobs;
  float min_score = CBIR_SCORE_ANY;
  std::string space;  // "" = the first
};
// NULL gives the defaults; CBIR_EINVAL for a bad version, ids/n_ids pair or filter.
Search to_search(const cbir_search_options_t* given);
// The items of an add/upsert call in the store's terms; CBIR_EINVAL for a NULL uri.
std::vector<store::ItemInfo> to_items(const cbir_item_t* items, size_t n);

}  // namespace cbir::capi
