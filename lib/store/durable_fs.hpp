// File-system steps that make a change survive a crash or power loss.
#pragma once

#include <string>

namespace cbir::store {

// fsyncs the folder that holds `path`, so a rename or a new entry in it is on disk.
// CBIR_EIO when it cannot.
void fsync_parent_dir(const std::string& path);

// fsyncs the folder `dir` itself (its entries). CBIR_EIO when it cannot.
void fsync_dir(const std::string& dir);

}  // namespace cbir::store
