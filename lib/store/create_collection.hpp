// Creating a collection folder whole or not at all. The catalog is made and its settings
// committed in a hidden sibling folder, which is then renamed into place: a creation that
// fails (a full disk) or is killed leaves no folder that later opens would refuse.
#pragma once

#include <string>

#include "store/catalog.hpp"

namespace cbir::store {

// Makes the collection folder `dir` (which must not exist) holding a catalog with `meta`.
// Returns false when another process made `dir` first: open that one instead. Removes hidden
// siblings left by creations that were killed. CBIR_EIO (with the reason: a full disk, no
// permission) when it cannot; nothing is left behind then.
bool create_collection_folder(const std::string& dir, const CatalogMeta& meta);

}  // namespace cbir::store
