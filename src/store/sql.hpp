#pragma once
// The small SQL layer SqlStore runs on: a connection with bound parameters
// and transactions, and a dialect for what really differs between SQLite and
// PostgreSQL. Statements are written once, with PostgreSQL's numbered
// placeholders ($1, $2, ...; the SQLite driver rewrites them to ?1, ?2, ...).
// Two drivers implement it: sql_sqlite.cpp (sqlite3) and sql_postgres.cpp
// (libpqxx). Database failures become rmm::Error.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "store/migrations.hpp"

namespace rmm::store::sql {

// A bound parameter: an integer, a real or a text (the store binds no NULLs;
// its SQL turns 0 and "" into NULL with NULLIF where a column wants one).
struct Param {
  Param(int64_t v) : value(v) {}                   // NOLINT(google-explicit-constructor)
  Param(int v) : value(int64_t{v}) {}              // NOLINT(google-explicit-constructor)
  Param(double v) : value(v) {}                    // NOLINT(google-explicit-constructor)
  Param(std::string v) : value(std::move(v)) {}    // NOLINT(google-explicit-constructor)
  Param(const char* v) : value(std::string(v)) {}  // NOLINT(google-explicit-constructor)
  std::variant<int64_t, double, std::string> value;
};
using Params = std::vector<Param>;

// One result row. Getters convert what the driver gave (SQLite's typed
// values, PostgreSQL's text); NULL reads as "" or 0.
class Row {
 public:
  using Field = std::variant<std::monostate, int64_t, double, std::string>;
  explicit Row(std::vector<Field> fields) : fields_(std::move(fields)) {}
  std::string text(int column) const;
  int64_t integer(int column) const;
  double real(int column) const;
  bool flag(int column) const;  // a boolean: SQLite's 0/1, PostgreSQL's f/t

 private:
  const Field& at(int column) const;
  std::vector<Field> fields_;
};

struct Result {
  std::vector<Row> rows;
  int64_t affected = 0;  // rows an INSERT, UPDATE or DELETE changed
  bool empty() const { return rows.empty(); }
  const Row& front() const { return rows.at(0); }
};

// The statements of one open transaction.
class Tx {
 public:
  virtual ~Tx() = default;
  virtual Result exec(const std::string& sql, const Params& params = {}) = 0;
  // Several statements without parameters (a migration step).
  virtual void script(const std::string& sql) = 0;
};

// What the SQL of the two back ends really differs in. Everything else is
// written once in sql_store.cpp.
struct Dialect {
  const char* backend;  // Store::backend(): "sqlite" or "postgres"
  const char* title;    // for messages: "SQLite" or "PostgreSQL"
  const std::vector<MigrationStep>& (*migrations)();
  // CREATE TABLE IF NOT EXISTS schema_migrations (its column types differ).
  const char* migrations_table;
  // Run first in each migration transaction to serialize migrating
  // processes ("" when the transaction itself already does).
  const char* migration_lock;
  // Takes a transaction-long lock on the text $1, so that two clients
  // computing the next version of one template wait for each other ("" when
  // write transactions are serialized anyway).
  const char* key_lock;
  const char* for_update;  // row locks appended to a SELECT ("" without them)
  const char* for_share;
  const char* byte_order;  // COLLATE for text ORDER BY terms: byte order whatever the locale
  // SQL true when `param` (lowercased by the caller) occurs in `column` with
  // its ASCII letters (and only those) lowercased.
  std::string (*contains_folded)(const std::string& column, const std::string& param);
  // The next value of a counter ordering rows by last use: a sequence where
  // there are sequences, else one more than `column`'s largest in `table`.
  std::string (*next_in_sequence)(const char* sequence, const char* table, const char* column);
};

// A connection that runs one transaction at a time (calls from several
// threads wait for each other). transaction() commits when `body` returns and
// rolls back when it throws; errors other than rmm::Error become Internal
// naming `what`.
class Connection {
 public:
  enum class Mode { read, write };
  virtual ~Connection() = default;
  virtual const Dialect& dialect() const = 0;
  virtual void transaction(Mode mode, const char* what, const std::function<void(Tx&)>& body) = 0;
};

// SQLite: WAL, synchronous=NORMAL, foreign keys, a 5 s busy timeout; write
// transactions BEGIN IMMEDIATE (the write lock up front, so two writers wait
// on the busy timeout instead of failing on upgrade), read ones BEGIN.
std::unique_ptr<Connection> open_sqlite(const std::string& path);
// PostgreSQL: one connection (reopened on the next call when it breaks),
// READ COMMITTED transactions. Refused when built with -DRMM_POSTGRES=OFF.
std::unique_ptr<Connection> open_postgres(const std::string& url);

}  // namespace rmm::store::sql
