#include "store/create_collection.hpp"

#include "store/durable_fs.hpp"

namespace cbir::store {

bool create_collection_folder(const std::string& dir, const CatalogMeta& meta) {
  StagedFolder staged(dir, "creating");
  {
    Catalog catalog(staged.path() + "/" + Catalog::kFileName, /*writer=*/true, /*create=*/true);
    catalog.initialize(meta);
  }  // closed: SQLite folds its log into the file
  return staged.commit();
}

}  // namespace cbir::store
