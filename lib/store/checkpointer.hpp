// Copies the catalog's write-ahead log into the database file on a thread of its own.
//
// In WAL mode every vector is written twice: into the log at commit, then into the database
// file by a checkpoint. SQLite's automatic checkpoint runs inside the COMMIT that crosses its
// threshold, so a bulk load waited for the second copy too (about 40% of a 1M-vector load).
// The writer's connection turns that off and reports each commit (on_commit); this thread
// then checkpoints through a connection of its own (PASSIVE: it never blocks the writer or a
// reader, and stops at frames a reader still needs). Durability is unchanged: a commit is
// durable once its log frames are synced, and a checkpoint only moves committed pages.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite.hpp"

namespace cbir::store {

class Checkpointer {
 public:
  // Opens its own read-write connection to the catalog file `path`. A pass starts once the log
  // holds `min_frames` pages.
  Checkpointer(const std::string& path, int min_frames);
  // Finishes the checkpoint under way, if any, then stops.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Called after each commit with the pages the log holds (sqlite3_wal_hook's count).
  void on_commit(int frames) {
    if (frames >= min_frames_) request();
  }
  // Asks for a checkpoint soon; requests made while one runs are served by one more pass.
  void request();
  // Waits until no request is pending or running (tests, and callers that want the log short).
  void wait_idle();

 private:
  void run();

  Db db_;
  const int min_frames_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false, running_ = false, stop_ = false;
  std::thread thread_;
};

}  // namespace cbir::store
