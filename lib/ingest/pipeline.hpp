// Indexing files into a collection with a model: decode/preprocess on a pool of workers,
// overlapped with batched inference on the calling thread, through a bounded queue (memory stays
// flat however many files there are), committing every N items so an interrupted run resumes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "image/image.hpp"
#include "ingest/walk.hpp"

namespace cbir::model {
class Model;
}
namespace cbir::store {
class Collection;
}

namespace cbir::ingest {

struct Progress {
  uint64_t done = 0;  // files handled so far (added, unchanged, duplicate or failed)
  uint64_t total = 0;
  uint64_t added = 0;
  uint64_t failed = 0;
  double seconds = 0;
  double rate = 0;          // files handled per second
  double eta_seconds = -1;  // -1 until there is a rate
};

struct FileError {
  std::string path;
  int code = 0;
  std::string message;
};

struct Report {
  uint64_t found = 0;       // files considered
  uint64_t added = 0;       // new items
  uint64_t updated = 0;     // existing items whose file changed, re-encoded
  uint64_t unchanged = 0;   // skipped: same size and mtime, or same content
  uint64_t filled = 0;      // unchanged items encoded for the spaces they lacked
  uint64_t duplicates = 0;  // same content as another item: its vector reused, not re-encoded
  uint64_t failed = 0;
  uint64_t removed = 0;     // pruned: their files are gone
  bool cancelled = false;
  double seconds = 0;
  std::vector<FileError> errors;
};

struct IngestOptions {
  WalkOptions walk;
  int workers = 0;           // decode threads; 0 = one per core
  size_t commit_every = 256; // commit after this many written items
  bool prune = false;        // ingest_dir: remove items under the folder whose files are gone
  image::DecodeOptions decode;
  bool fast_decode = false;
  // Called after every batch and at the end; returning false cancels the run (what was done is
  // committed, the report says cancelled).
  std::function<bool(const Progress&)> progress;
};

// A model and the collection's vector space its vectors go to ("" = the first).
struct SpaceModel {
  const model::Model* model = nullptr;
  std::string space;
};

// Indexes files with one model per vector space: each file is read and decoded once, then
// resampled and encoded for every model. The first entry is the collection's first space, and
// every space it names must hold that model's vectors (CBIR_EMISMATCH otherwise). An item whose
// file is unchanged but which lacks a vector in a space given (a space added later) is decoded
// and encoded for those spaces only.
Report ingest_files(store::Collection& coll, const std::vector<SpaceModel>& models,
                    std::vector<FileFacts> files, const IngestOptions& opts);
Report ingest_files(store::Collection& coll, const model::Model& model,
                    std::vector<FileFacts> files, const IngestOptions& opts);

// Walks `dir` (WalkOptions), ingests what it finds, and with `prune` removes the items whose uri
// lies under `dir` but whose file is gone.
Report ingest_dir(store::Collection& coll, const std::vector<SpaceModel>& models,
                  const std::string& dir, const IngestOptions& opts);
Report ingest_dir(store::Collection& coll, const model::Model& model, const std::string& dir,
                  const IngestOptions& opts);

}  // namespace cbir::ingest
