#pragma once
// What the PostgreSQL store's source files share: the transaction wrapper
// (a member template, so its definition must be seen where it is used) and
// column access in the shape store_util's row readers take.
#include <pqxx/pqxx>
#include <string>

#include "core/error.hpp"
#include "store/postgres_store.hpp"

namespace rmm::store {

// The concrete connection behind PostgresStore::connection().
struct PostgresStore::Connection {
  explicit Connection(const std::string& url) : conn(url) {}
  pqxx::connection conn;
};

template <class F>
auto PostgresStore::in_transaction(const char* what, F&& body) {
  std::lock_guard lock(mutex_);
  pqxx::connection_base& conn = connection();
  try {
    pqxx::work w(conn);
    return body(w);  // commits inside when it succeeds; the destructor aborts otherwise
  } catch (const Error&) {
    throw;
  } catch (const pqxx::broken_connection& e) {
    conn_.reset();
    throw Error(ErrorKind::Internal, std::string("PostgreSQL connection lost (") + what + "): " + e.what());
  } catch (const std::exception& e) {
    throw Error(ErrorKind::Internal, std::string("PostgreSQL (") + what + "): " + e.what());
  }
}

namespace pg {
struct Columns {
  const pqxx::row& row;
  std::string text(int column) const { return row[column].as<std::string>(); }
  int64_t integer(int column) const { return row[column].as<int64_t>(); }
};
}  // namespace pg

}  // namespace rmm::store
