// File-system steps that make a change survive a crash or power loss.
#pragma once

#include <string>

namespace cbir::store {

// fsyncs the folder that holds `path`, so a rename or a new entry in it is on disk.
// CBIR_EIO when it cannot.
void fsync_parent_dir(const std::string& path);

// fsyncs the folder `dir` itself (its entries). CBIR_EIO when it cannot.
void fsync_dir(const std::string& dir);

// A folder filled under a hidden name beside `target` (".<name>.<what>.<pid>.<random>") and
// renamed to `target` by commit(), so `target` appears whole or not at all. Leftovers of
// processes that were killed while staging the same target are removed when one starts.
// Destroyed without commit(), the staging folder is removed.
class StagedFolder {
 public:
  // `what` names the operation in the hidden name ("creating", "backup"). CBIR_EIO when the
  // staging folder cannot be made.
  StagedFolder(const std::string& target, const char* what);
  ~StagedFolder();
  StagedFolder(const StagedFolder&) = delete;
  StagedFolder& operator=(const StagedFolder&) = delete;

  const std::string& path() const { return staging_; }
  // fsyncs the staging folder, renames it to the target and fsyncs their parent. False (and
  // the staging folder removed) when the target exists by then; CBIR_EIO on other failures.
  bool commit();

 private:
  std::string target_;
  std::string staging_;
  bool done_ = false;
};

}  // namespace cbir::store
