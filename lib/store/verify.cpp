// Collection::verify_report: every check a user can ask for (`cbir verify`), apart from the
// collection's daily work in collection.cpp. A damaged catalog ends the checks at the first.
#include <mutex>
#include <shared_mutex>

#include "common/error.hpp"
#include "store/collection.hpp"
#include "store/index_spec.hpp"
#include "store/snapshot.hpp"
#include "store/vector_index.hpp"

namespace cbir::store {

int Collection::verify_report(const VerifyFn& on_check) {
  std::lock_guard w(write_mu_);
  std::lock_guard db(db_mu_);
  int first = CBIR_OK;
  auto report = [&](const char* check, int status, const std::string& message) {
    if (first == CBIR_OK) first = status;
    if (on_check) on_check(check, status, message);
  };

  const std::string problems = catalog_->integrity_problems();
  report("catalog", problems.empty() ? CBIR_OK : CBIR_ECORRUPT,
         problems.empty() ? "" : "the collection catalog " + catalog_->path() + " is damaged: " +
                                     problems + "; restore the collection from a backup");
  // The other checks walk the catalog's tables: on a damaged one a walk can run off into
  // garbage (the fuzzer found loops and endless scans), so they are not run.
  if (!problems.empty()) return first;

  const Catalog::VectorCheck v = catalog_->check_vectors();
  std::string note = std::to_string(v.checked) + " vectors checked";
  if (v.without_sum > 0)
    note += "; " + std::to_string(v.without_sum) + " written before cbir stored checksums carry "
            "none (they gain one when written again)";
  report("vectors", v.damaged.empty() ? CBIR_OK : CBIR_ECORRUPT,
         v.damaged.empty() ? note
                           : std::to_string(v.damaged.size()) + " stored vectors in " +
                                 catalog_->path() + " fail their checksum (damaged on disk), item " +
                                 std::to_string(v.damaged.front()) +
                                 " first; remove those items and index their images again");

  Catalog::ReadTxn txn(*catalog_);
  const CatalogMeta m = catalog_->read_meta();
  std::shared_lock ix(index_mu_);
  for (auto& space : spaces_) {
    const std::string which = space->first ? "" : " (space '" + space->name + "')";
    if (!space->first) {
      const Catalog::VectorCheck sv = catalog_->check_space_vectors(space->name);
      report("vectors", sv.damaged.empty() ? CBIR_OK : CBIR_ECORRUPT,
             sv.damaged.empty() ? std::to_string(sv.checked) + " vectors checked" + which
                                : std::to_string(sv.damaged.size()) + " stored vectors" + which +
                                      " fail their checksum (damaged on disk), item " +
                                      std::to_string(sv.damaged.front()) +
                                      " first; remove those items and index their images again");
    }
    if (!verify_space(*space, m.seq, which, report)) return first;
  }
  return first;
}

bool Collection::verify_space(const Space& space, int64_t seq, const std::string& which,
                              const VerifyFn& report) {
  const std::string path = snapshot_path(space);
  SnapshotInfo info;
  std::string problem;
  const bool readable = read_snapshot(
      path, info,
      [&](SnapshotSource& src) {
        if (info.dim != static_cast<uint32_t>(space.dim)) fail(CBIR_ECORRUPT, "it has another dimension");
        if (info.generation != space.generation || info.watermark > seq)
          fail(CBIR_ECORRUPT, "it was saved for another state of the catalog");
        // Parsed as opening parses it (FAISS's reader included), then dropped.
        VectorIndex parsed(src, IndexSpec::parse(info.spec), static_cast<size_t>(space.dim));
      },
      problem);
  // Not damage: none saved yet, one an older cbir wrote, or one saved for another state of the
  // catalog (an interrupted rebuild, a commit that failed after the save): opening rebuilds the
  // index from the catalog, and a writer then saves a good one.
  const bool missing = !readable && problem == "there is no index snapshot";
  const bool older = !readable && (problem.find("older cbir") != std::string::npos ||
                                   problem.find("another state of the catalog") != std::string::npos);
  const std::string rebuilds = "; opening rebuilds the index" + which + " from the catalog";
  report("snapshot", readable || missing || older ? CBIR_OK : CBIR_ECORRUPT,
         readable  ? which
         : missing ? "none saved yet" + which + rebuilds
         : older   ? problem + rebuilds
                   : problem + rebuilds + ": open the collection for writing (cbir compact) to save a good one");

  if (!space.index) {
    report("index", CBIR_EIO, "the index of " + dir_ + which + " is unavailable; reopen the collection");
    return false;
  }
  if (seq != index_seq_) {  // a reader behind the writer
    report("index", CBIR_OK, "not compared: this handle is behind the catalog (refresh it)");
    return false;
  }
  std::vector<int64_t> stored;
  if (!space.first) {
    stored = catalog_->space_ids(space.name);
  } else {
    for (;;) {
      const std::vector<int64_t> part = catalog_->ids_after(stored.empty() ? -1 : stored.back(), 65536);
      if (part.empty()) break;
      // A damaged catalog index can hand back ids out of order: stop rather than loop forever.
      if (!stored.empty() && part.front() <= stored.back()) {
        report("index", CBIR_ECORRUPT, "the catalog " + catalog_->path() + " lists its items out of "
                                       "order (its index is damaged); restore the collection from a backup");
        return false;
      }
      stored.insert(stored.end(), part.begin(), part.end());
    }
  }
  const std::vector<int64_t> indexed = space.index->ids();
  report("index", stored == indexed ? CBIR_OK : CBIR_ECORRUPT,
         stored == indexed ? which
                           : "the index of " + dir_ + which + " holds " + std::to_string(indexed.size()) +
                                 " items but the catalog " + std::to_string(stored.size()) +
                                 "; delete " + path + " and reopen to rebuild it");
  return true;
}

void Collection::verify() {
  std::string message;
  const int status = verify_report([&](const char*, int s, const std::string& m) {
    if (s != CBIR_OK && message.empty()) message = m;
  });
  if (status != CBIR_OK) fail(status, message);
}

}  // namespace cbir::store
