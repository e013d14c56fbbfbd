#include "store/sqlite.hpp"

#include <sqlite3.h>

#include "common/error.hpp"

namespace cbir::store {

Db::Db(const std::string& path, bool create, bool read_only) : path_(path) {
  int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (create && !read_only) flags |= SQLITE_OPEN_CREATE;
  // Each handle owns its connection and guards it with its own mutex.
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    if (rc == SQLITE_CANTOPEN)
      cbir::fail(CBIR_ENOTFOUND, "cannot open the collection catalog " + path + ": " + detail);
    cbir::fail(rc == SQLITE_NOMEM ? CBIR_ENOMEM : CBIR_EIO,
               "cannot open the collection catalog " + path + ": " + detail);
  }
  sqlite3_extended_result_codes(db_, 1);
  // A writer holding the lock briefly (checkpoint, commit) must not make readers fail.
  sqlite3_busy_timeout(db_, 10000);
}

Db::~Db() { sqlite3_close_v2(db_); }

void Db::fail(int rc, const std::string& what) const {
  const std::string generic = sqlite3_errstr(rc);
  std::string msg = what + " (catalog " + path_ + "): " + generic;
  // The connection's message adds detail only when it says more than the code's own text
  // (it often repeats it: "database disk image is malformed").
  if (db_ != nullptr && sqlite3_errcode(db_) == rc && generic != sqlite3_errmsg(db_))
    msg += std::string(" - ") + sqlite3_errmsg(db_);
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      cbir::fail(CBIR_ECORRUPT, msg + "; the catalog is damaged: restore the collection from a "
                                      "backup (`cbir backup` or cbir_collection_backup() makes one)");
    case SQLITE_NOMEM: cbir::fail(CBIR_ENOMEM, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: cbir::fail(CBIR_ELOCKED, msg);
    case SQLITE_READONLY:
      cbir::fail(CBIR_EIO, msg + "; the collection is open read-only or its files are not writable");
    case SQLITE_FULL:
      cbir::fail(CBIR_EIO, msg + ": free some space and run it again (what was committed is kept)");
    case SQLITE_CONSTRAINT: cbir::fail(CBIR_EEXIST, msg);
    default: cbir::fail(CBIR_EIO, msg);
  }
}

void Db::exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(rc, std::string("cannot run \"") + sql + "\"");
}

int64_t Db::changes() const { return sqlite3_changes(db_); }
int64_t Db::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
bool Db::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Stmt::Stmt(Db& db, const char* sql) : db_(db) {
  int rc = sqlite3_prepare_v3(db.raw(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) db_.fail(rc, std::string("cannot prepare \"") + sql + "\"");
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::bind(int i, int64_t v) {
  int rc = sqlite3_bind_int64(stmt_, i, v);
  if (rc != SQLITE_OK) db_.fail(rc, "cannot bind a value");
  return *this;
}

Stmt& Stmt::bind(int i, double v) {
  int rc = sqlite3_bind_double(stmt_, i, v);
  if (rc != SQLITE_OK) db_.fail(rc, "cannot bind a value");
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_.fail(rc, "cannot bind a text value");
  return *this;
}

Stmt& Stmt::bind_blob(int i, const void* data, size_t bytes) {
  // The caller keeps `data` alive until the statement is reset (every use here does).
  int rc = sqlite3_bind_blob64(stmt_, i, data, bytes, SQLITE_STATIC);
  if (rc != SQLITE_OK) db_.fail(rc, "cannot bind a blob");
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  db_.fail(rc, std::string("cannot run \"") + sqlite3_sql(stmt_) + "\"");
}

void Stmt::run() {
  step();
  reset();
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Stmt::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col))
           : std::string();
}

const void* Stmt::blob(int col) const { return sqlite3_column_blob(stmt_, col); }
size_t Stmt::bytes(int col) const { return static_cast<size_t>(sqlite3_column_bytes(stmt_, col)); }
double Stmt::real(int col) const { return sqlite3_column_double(stmt_, col); }

bool Stmt::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

}  // namespace cbir::store
