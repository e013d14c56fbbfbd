// The index snapshot: a derived copy of the in-memory index, so that opening a collection need
// not rebuild it from the catalog. It is written atomically (temp file, fsync, rename, fsync of
// the folder) and carries a checksum and the catalog seq ("watermark") it reflects. A snapshot
// is verified in full before any of it is parsed: FAISS never sees bytes that fail the checksum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace faiss {
struct IOReader;
struct IOWriter;
}  // namespace faiss

namespace cbir::store {

struct SnapshotInfo {
  uint32_t dim = 0;
  int64_t watermark = 0;   // catalog seq reflected
  int64_t generation = 0;  // catalog generation (rebuild count) it belongs to
  std::string spec;        // the concrete index spec it holds
};

// Where a snapshot's body is written; also usable as a FAISS IOWriter.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual void write(const void* data, size_t bytes) = 0;
  virtual faiss::IOWriter* faiss_writer() = 0;
};

// Where a verified snapshot's body is read from; also usable as a FAISS IOReader.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // Reads exactly `bytes`; CBIR_ECORRUPT if the body ends early.
  virtual void read(void* data, size_t bytes) = 0;
  virtual faiss::IOReader* faiss_reader() = 0;
};

// Writes `path` atomically; `body` writes the contents after the header. CBIR_EIO on failure,
// leaving any previous snapshot in place.
void write_snapshot(const std::string& path, const SnapshotInfo& info,
                    const std::function<void(SnapshotSink&)>& body);

// Reads the snapshot at `path`: verifies it, then calls `body` to parse it. Returns false with
// `problem` set when the file is missing, damaged or unreadable (the caller rebuilds instead);
// a failure inside `body` also counts as damage.
bool read_snapshot(const std::string& path, SnapshotInfo& info,
                   const std::function<void(SnapshotSource&)>& body, std::string& problem);

}  // namespace cbir::store
