#pragma once
// The one value-parameterized fixture every store test runs under: the
// parameter names the back end ("sqlite" or "postgres"), SetUp opens a fresh
// store there. A PostgreSQL run without a test server fails, never skips.
#include <gtest/gtest.h>

#include <memory>
#include <string>

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

inline std::string backend_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace rmm::store::test
