// The PostgreSQL driver of sql::Connection, over libpqxx: one connection
// behind a mutex (reopened on the next call when it breaks), each
// transaction a pqxx::work (READ COMMITTED). Works in whatever schema the
// URL's search_path selects. Parameters go as text and PostgreSQL infers
// their types, so the shared SQL casts where the context does not say.
#include <mutex>
#include <pqxx/pqxx>

#include "core/error.hpp"
#include "store/sql.hpp"

namespace rmm::store::sql {

namespace {

std::string contains_folded(const std::string& column, const std::string& param) {
  // translate() folds ASCII letters only, whatever the database's locale, so
  // search behaves exactly like SQLite's lower().
  return "strpos(translate(" + column + ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), " +
         param + ") > 0";
}

// Sequences order conversations and cache entries by last use across
// concurrent clients.
std::string next_in_sequence(const char* sequence, const char*, const char*) {
  return std::string("nextval('") + sequence + "')";
}

const Dialect kPostgres = {
    "postgres",
    "PostgreSQL",
    &postgres_migrations,
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, what TEXT NOT NULL, "
    "applied_at BIGINT NOT NULL)",
    "SELECT pg_advisory_xact_lock(7207120001)",  // serializes migrations of one database
    "SELECT pg_advisory_xact_lock(hashtext($1))",
    " FOR UPDATE",
    " FOR SHARE",
    " COLLATE \"C\"",
    &contains_folded,
    &next_in_sequence,
};

class PostgresTx final : public Tx {
 public:
  explicit PostgresTx(pqxx::work& w) : w_(w) {}

  Result exec(const std::string& sql, const Params& params) override {
    std::vector<std::string> text;
    text.reserve(params.size());
    for (const Param& p : params) {
      if (const auto* n = std::get_if<int64_t>(&p.value)) {
        text.push_back(pqxx::to_string(*n));
      } else if (const auto* d = std::get_if<double>(&p.value)) {
        text.push_back(pqxx::to_string(*d));
      } else {
        text.push_back(std::get<std::string>(p.value));
      }
    }
    const pqxx::result r =
        params.empty() ? w_.exec(sql) : w_.exec_params(sql, pqxx::prepare::make_dynamic_params(text));
    Result out;
    out.affected = static_cast<int64_t>(r.affected_rows());
    out.rows.reserve(r.size());
    for (const auto& row : r) {
      std::vector<Row::Field> fields;
      fields.reserve(row.size());
      for (const auto& f : row) {
        if (f.is_null()) {
          fields.emplace_back(std::monostate{});
        } else {
          fields.emplace_back(std::string(f.c_str(), f.size()));
        }
      }
      out.rows.emplace_back(std::move(fields));
    }
    return out;
  }

  void script(const std::string& sql) override { w_.exec(sql); }

 private:
  pqxx::work& w_;
};

class PostgresConnection final : public Connection {
 public:
  explicit PostgresConnection(std::string url) : url_(std::move(url)) {}

  const Dialect& dialect() const override { return kPostgres; }

  void transaction(Mode, const char* what, const std::function<void(Tx&)>& body) override {
    std::lock_guard lock(mutex_);
    pqxx::connection& conn = connection();
    try {
      pqxx::work w(conn);
      PostgresTx tx(w);
      body(tx);
      w.commit();  // the destructor aborts when `body` throws
    } catch (const Error&) {
      throw;
    } catch (const pqxx::broken_connection& e) {
      conn_.reset();
      throw Error(ErrorKind::Internal, std::string("PostgreSQL connection lost (") + what + "): " + e.what());
    } catch (const std::exception& e) {
      throw Error(ErrorKind::Internal, std::string("PostgreSQL (") + what + "): " + e.what());
    }
  }

 private:
  pqxx::connection& connection() {
    if (!conn_ || !conn_->is_open()) {
      conn_.reset();
      try {
        auto c = std::make_unique<pqxx::connection>(url_);
        c->set_client_encoding("UTF8");
        pqxx::nontransaction setup(*c);
        setup.exec("SET client_min_messages TO warning");
        setup.commit();
        conn_ = std::move(c);
      } catch (const std::exception& e) {
        throw Error(ErrorKind::Internal, std::string("cannot connect to PostgreSQL: ") + e.what());
      }
    }
    return *conn_;
  }

  std::string url_;
  std::mutex mutex_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace

std::unique_ptr<Connection> open_postgres(const std::string& url) {
  return std::make_unique<PostgresConnection>(url);
}

}  // namespace rmm::store::sql
