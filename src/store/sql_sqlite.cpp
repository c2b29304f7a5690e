// The SQLite driver of sql::Connection, over the sqlite3 C API: one
// connection in WAL mode (readers never wait for the writer),
// synchronous=NORMAL (a killed process loses nothing committed; only a power
// cut can lose the last transactions), foreign keys on and a 5 s busy
// timeout for other processes holding the write lock. SQLite failures become
// rmm::Error (Internal, or BadFile when the file is not a database).
#include <sqlite3.h>

#include <mutex>

#include "core/error.hpp"
#include "store/sql.hpp"

namespace rmm::store::sql {

namespace {

std::string contains_folded(const std::string& column, const std::string& param) {
  // lower() folds ASCII letters only (SQLite without ICU).
  return "instr(lower(" + column + "), " + param + ") > 0";
}

std::string next_in_sequence(const char*, const char* table, const char* column) {
  return std::string("(SELECT COALESCE(MAX(") + column + "), 0) + 1 FROM " + table + ")";
}

const Dialect kSqlite = {
    "sqlite",
    "SQLite",
    &sqlite_migrations,
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, what TEXT NOT NULL, "
    "applied_at INTEGER NOT NULL)",
    "",  // BEGIN IMMEDIATE serializes migrations
    "",  // and every other writer
    "",
    "",
    "",  // BINARY, SQLite's default collation, is byte order
    &contains_folded,
    &next_in_sequence,
};

// $1, $2, ... as SQLite's ?1, ?2, ... (outside quoted text and names).
std::string question_marks(const std::string& sql) {
  std::string out = sql;
  char quote = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const char ch = out[i];
    if (quote) {
      if (ch == quote) quote = 0;
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
    } else if (ch == '$' && i + 1 < out.size() && out[i + 1] >= '0' && out[i + 1] <= '9') {
      out[i] = '?';
    }
  }
  return out;
}

ErrorKind kind_of(int code) {
  const int primary = code & 0xFF;
  return primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT ? ErrorKind::BadFile : ErrorKind::Internal;
}

class SqliteConnection final : public Connection, private Tx {
 public:
  explicit SqliteConnection(const std::string& path) : path_(path) {
    int rc = sqlite3_open_v2(path.c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      throw Error(ErrorKind::Internal, "cannot open SQLite database " + path + ": " + message);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    try {
      script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    } catch (...) {
      sqlite3_close_v2(db_);  // a file that is no database: BadFile
      throw;
    }
  }
  ~SqliteConnection() override {
    last_.reset();
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  const Dialect& dialect() const override { return kSqlite; }

  void transaction(Mode mode, const char*, const std::function<void(Tx&)>& body) override {
    std::lock_guard lock(mutex_);
    script(mode == Mode::write ? "BEGIN IMMEDIATE" : "BEGIN");
    try {
      body(*this);
      script("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

 private:
  Result exec(const std::string& sql, const Params& params) override {
    sqlite3_stmt* stmt = prepare(sql);
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;  // ?1, ?2, ...
      const auto& v = params[i].value;
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, index, *d);
      } else {
        const auto& s = std::get<std::string>(v);
        rc = sqlite3_bind_text(stmt, index, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      }
      if (rc != SQLITE_OK) fail(rc, "bind", stmt);
    }
    Result out;
    int rc = SQLITE_OK;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) out.rows.push_back(read_row(stmt));
    if (rc != SQLITE_DONE) fail(rc, "step", stmt);
    if (!sqlite3_stmt_readonly(stmt)) out.affected = sqlite3_changes(db_);
    sqlite3_reset(stmt);
    return out;
  }

  // The statement for `sql`: the last one again when it is the same (one
  // statement run in a loop is prepared once), else a new one.
  sqlite3_stmt* prepare(const std::string& sql) {
    if (last_ && sql == last_sql_) {
      sqlite3_reset(last_.get());
      sqlite3_clear_bindings(last_.get());
      return last_.get();
    }
    last_.reset();
    const std::string text = question_marks(sql);
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(db_, text.c_str(), static_cast<int>(text.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) fail(rc, "prepare");
    last_.reset(stmt);
    last_sql_ = sql;
    return stmt;
  }

  void script(const std::string& sql) override {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string message = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      throw Error(kind_of(rc), "SQLite " + path_ + ": " + message);
    }
  }

  static Row read_row(sqlite3_stmt* stmt) {
    const int n = sqlite3_column_count(stmt);
    std::vector<Row::Field> fields;
    fields.reserve(static_cast<size_t>(n));
    for (int c = 0; c < n; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER: fields.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c))); break;
        case SQLITE_FLOAT: fields.emplace_back(sqlite3_column_double(stmt, c)); break;
        case SQLITE_NULL: fields.emplace_back(std::monostate{}); break;
        default: {
          const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          const int size = sqlite3_column_bytes(stmt, c);
          fields.emplace_back(data ? std::string(data, static_cast<size_t>(size)) : std::string());
        }
      }
    }
    return Row(std::move(fields));
  }

  // Throws the error of `code`, first making `stmt` ready to run again.
  [[noreturn]] void fail(int code, const std::string& context, sqlite3_stmt* stmt = nullptr) {
    Error error(kind_of(code), "SQLite " + path_ + ": " + sqlite3_errmsg(db_) + " (" + context + ")");
    if (stmt) sqlite3_reset(stmt);
    throw error;
  }

  std::mutex mutex_;
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> last_{nullptr, &sqlite3_finalize};
  std::string last_sql_;
};

}  // namespace

std::unique_ptr<Connection> open_sqlite(const std::string& path) {
  return std::make_unique<SqliteConnection>(path);
}

}  // namespace rmm::store::sql
