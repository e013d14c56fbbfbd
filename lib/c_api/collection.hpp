// What a cbir_collection_t handle holds, for other lib/c_api files that take one (ingest).
#pragma once

#include <memory>

#include "cbir.h"
#include "store/collection.hpp"

struct cbir_collection_t {
  std::unique_ptr<cbir::store::Collection> impl;
};
