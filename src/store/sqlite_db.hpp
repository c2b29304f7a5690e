#pragma once
// A thin RAII layer over the SQLite C API: one connection, prepared
// statements with bound parameters, and a transaction guard that rolls back
// unless committed. SQLite failures become rmm::Error (Internal, or BadFile
// when the file is not a database).
#include <cstdint>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace rmm::store::sqlite {

class Db;

class Statement {
 public:
  Statement(Db& db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters count from 1, as in SQL's ?1, ?2, ...
  Statement& bind(int index, const std::string& value);
  Statement& bind(int index, int64_t value);
  Statement& bind_real(int index, double value);
  // Runs to the next row: true when there is one.
  bool step();
  // Runs a statement that returns no rows.
  void run();
  // Makes the statement ready to run again (bindings are kept until rebound).
  Statement& reset();

  std::string text(int column) const;
  int64_t integer(int column) const;
  double real(int column) const;

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  explicit Db(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* handle() { return db_; }
  // Runs one or more statements without parameters.
  void exec(const std::string& sql);
  int64_t last_insert_rowid();
  int changes();
  [[noreturn]] void fail(int code, const std::string& context);

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// BEGIN IMMEDIATE for writers (takes the write lock up front, so two writers
// wait on busy_timeout instead of failing on upgrade), BEGIN for readers.
class Transaction {
 public:
  Transaction(Db& db, bool write);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Db& db_;
  bool open_ = true;
};

}  // namespace rmm::store::sqlite
