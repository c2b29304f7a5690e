#pragma once
// A fresh, empty store location per test: a SQLite file in a new temporary
// directory, or a new schema in the test PostgreSQL server (the URL selects
// it through search_path). Removed again when the object goes.
#include <cstdint>
#include <memory>
#include <string>

namespace rmm::store::test {

class TestLocation {
 public:
  static std::unique_ptr<TestLocation> make(const std::string& backend);  // throws std::runtime_error
  ~TestLocation();

  const std::string& backend() const { return backend_; }
  const std::string& location() const { return location_; }  // for open_store
  // Raw SQL beside the store, to look at or tamper with what it wrote.
  void exec(const std::string& sql);
  std::string scalar(const std::string& sql);  // first column of the first row ("" when none)

 private:
  std::string backend_;
  std::string location_;
  std::string dir_;     // sqlite
  std::string schema_;  // postgres
  std::string base_url_;
};

// The test server's URL: $RMM_TEST_PG_URL, else the file scripts/pg-test.sh
// wrote. Throws with what to do when there is none.
std::string pg_test_url();

}  // namespace rmm::store::test
