#include "test_location.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <random>
#include <stdexcept>

namespace rmm::store::test {

namespace {

std::string random_suffix() {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 12; ++i) s.push_back(kHex[rd() & 0xF]);
  return s;
}

// Runs `sql` on the SQLite file; returns the first column of the first row.
std::string sqlite_query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::string err = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error("open " + path + ": " + err);
  }
  sqlite3_busy_timeout(db, 5000);
  std::string out;
  bool first = true;
  char* err = nullptr;
  auto callback = [](void* arg, int n, char** values, char**) -> int {
    auto* ctx = static_cast<std::pair<std::string*, bool*>*>(arg);
    if (*ctx->second && n > 0) {
      *ctx->first = values[0] ? values[0] : "";
      *ctx->second = false;
    }
    return 0;
  };
  std::pair<std::string*, bool*> ctx{&out, &first};
  int rc = sqlite3_exec(db, sql.c_str(), callback, &ctx, &err);
  std::string message = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error("sqlite: " + message + " in " + sql);
  return out;
}

}  // namespace

std::string pg_test_url() {
  if (const char* env = std::getenv("RMM_TEST_PG_URL"); env && *env) return env;
  std::ifstream in(RMM_PG_URL_FILE);
  std::string url;
  if (in && std::getline(in, url) && !url.empty()) return url;
  throw std::runtime_error(
      "no PostgreSQL test server: run the tests through ctest (its store_pg_start fixture runs "
      "scripts/pg-test.sh), or run `scripts/pg-test.sh start " +
      std::filesystem::path(RMM_PG_URL_FILE).parent_path().string() + "` first, or set RMM_TEST_PG_URL");
}

std::unique_ptr<TestLocation> TestLocation::make(const std::string& backend) {
  auto loc = std::unique_ptr<TestLocation>(new TestLocation);
  loc->backend_ = backend;
  if (backend == "sqlite") {
    auto dir = std::filesystem::temp_directory_path() / ("rmm-store-test-" + random_suffix());
    std::filesystem::create_directories(dir);
    loc->dir_ = dir.string();
    loc->location_ = (dir / "rmm.db").string();
  } else if (backend == "postgres") {
    loc->base_url_ = pg_test_url();
    loc->schema_ = "t_" + random_suffix();
    try {
      pqxx::connection conn(loc->base_url_);
      pqxx::nontransaction w(conn);
      w.exec("CREATE SCHEMA " + loc->schema_);
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot prepare a schema on the PostgreSQL test server " + loc->base_url_ +
                               ": " + e.what());
    }
    loc->location_ = loc->base_url_ + (loc->base_url_.find('?') == std::string::npos ? "?" : "&") +
                     "options=-c%20search_path%3D" + loc->schema_;
  } else {
    throw std::runtime_error("unknown backend " + backend);
  }
  return loc;
}

TestLocation::~TestLocation() {
  try {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    if (!schema_.empty()) {
      pqxx::connection conn(base_url_);
      pqxx::nontransaction w(conn);
      w.exec("SET client_min_messages TO warning");
      w.exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    }
  } catch (const std::exception&) {
    // Leftovers in a temporary directory or a throwaway server do no harm.
  }
}

void TestLocation::exec(const std::string& sql) { scalar(sql); }

std::string TestLocation::scalar(const std::string& sql) {
  if (backend_ == "sqlite") return sqlite_query(location_, sql);
  pqxx::connection conn(location_);
  pqxx::work w(conn);
  pqxx::result r = w.exec(sql);
  w.commit();
  if (r.empty() || r[0].empty() || r[0][0].is_null()) return "";
  return r[0][0].as<std::string>();
}

}  // namespace rmm::store::test
