// What a cbir_collection_t handle holds, for other lib/c_api files that take one (ingest).
#pragma once

#include <memory>

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
};
// NULL gives the defaults; CBIR_EINVAL for a bad version, ids/n_ids pair or filter.
Search to_search(const cbir_search_options_t* given);

}  // namespace cbir::capi
