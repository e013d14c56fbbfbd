// A thin RAII layer over the SQLite C API: a connection, prepared statements, and errors turned
// into cbir::Error with the catalog's path in the message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace cbir::store {

class Db;

// A prepared statement. step() returns true while a row is available; reset() readies it for
// the next execution (bindings are cleared).
class Stmt {
 public:
  Stmt(Db& db, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view text);
  Stmt& bind_blob(int i, const void* data, size_t bytes);
  bool step();
  void run();  // step() expecting no row, then reset()
  void reset();

  int64_t int64(int col) const;
  std::string text(int col) const;
  const void* blob(int col) const;
  size_t bytes(int col) const;
  double real(int col) const;
  bool is_null(int col) const;

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement when the scope ends, so an exception never leaves a query half-read.
class ResetOnExit {
 public:
  explicit ResetOnExit(Stmt& s) : s_(s) {}
  ~ResetOnExit() { s_.reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Stmt& s_;
};

class Db {
 public:
  // Opens (or, with `create`, creates) the database file. `read_only` opens it read-only.
  Db(const std::string& path, bool create, bool read_only);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const char* sql);
  int64_t changes() const;
  int64_t last_insert_id() const;
  bool in_transaction() const;
  const std::string& path() const { return path_; }
  sqlite3* raw() { return db_; }

  // Throws the cbir::Error matching SQLite result `rc` (CORRUPT/NOTADB -> CBIR_ECORRUPT, ...),
  // naming `what` and the database file.
  [[noreturn]] void fail(int rc, const std::string& what) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace cbir::store
