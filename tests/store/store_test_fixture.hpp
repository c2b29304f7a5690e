#pragma once
// The one value-parameterized fixture every store test runs under: the
// parameter names the back end ("sqlite" or "postgres"), SetUp opens a fresh
// store there. A PostgreSQL run without a test server fails, never skips.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/error.hpp"
#include "store/store.hpp"
#include "test_location.hpp"

namespace rmm::store::test {

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    try {
      loc_ = TestLocation::make(GetParam());
      store_ = open_store(loc_->location());
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
  }
  void TearDown() override {
    store_.reset();
    loc_.reset();
  }

  std::unique_ptr<TestLocation> loc_;
  std::unique_ptr<Store> store_;
};

// The store at `loc` migrated only up to `version`: an older database to upgrade.
inline std::unique_ptr<Store> open_store_at_version(const TestLocation& loc, int version) {
  return open_store(loc.location(), version);
}

inline ConversationQuery conversation_query(const std::string& search, int limit, int offset) {
  ConversationQuery q;
  q.search = search;
  q.limit = limit;
  q.offset = offset;
  return q;
}

// Expects `f` to throw InvalidArgument with `field` in its message.
template <class F>
void expect_invalid(F&& f, const std::string& field) {
  try {
    f();
    ADD_FAILURE() << "expected InvalidArgument naming " << field;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument) << e.what();
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

inline std::string backend_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace rmm::store::test
