// A consistent copy of a collection folder while other threads and processes search and write
// it: the index snapshot first, then the catalog through SQLite's online backup (a catalog at
// least as new as the snapshot, so opening the copy replays what the snapshot lacks, as opening
// the original would). The copy is made in a hidden sibling of `dest` and renamed into place.
#pragma once

#include <string>

namespace cbir::store {

// Copies the collection at `dir` to the new folder `dest`. CBIR_EEXIST when `dest` exists,
// CBIR_ENOTFOUND when `dir` holds no collection, CBIR_EIO (with the reason) when a file cannot
// be read or written; nothing is left at `dest` then.
void backup_collection(const std::string& dir, const std::string& dest);

}  // namespace cbir::store
