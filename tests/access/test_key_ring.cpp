// Keys from the store as the server sees them: created, revoked, expired,
// refreshed, with their limits resolved against the server's defaults.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "access/key_admin.hpp"
#include "access/key_ring.hpp"
#include "core/error.hpp"
#include "store/store.hpp"
#include "support/test_env.hpp"

namespace rmm::access {
namespace {

using namespace std::chrono_literals;

class KeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir("keyring");
    db_ = store::open_store((dir_ / "rmm.db").string());
  }
  void TearDown() override {
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> db_;
};

TEST_F(KeyRingTest, AuthenticatesActiveKeysOnly) {
  KeySpec spec;
  spec.name = "app";
  spec.scope = "generate";
  spec.models = {"qwen*"};
  spec.requests_per_minute = 10;
  const auto made = create_key(*db_, spec);
  KeyRing ring(*db_, Limits{100, 1000, 3}, 50ms);
  ASSERT_TRUE(ring.enabled());
  const auto p = ring.authenticate(made.key);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->key_name, "app");
  EXPECT_EQ(p->scope, Scope::Generate);
  EXPECT_EQ(p->models, std::vector<std::string>{"qwen*"});
  EXPECT_EQ(p->limits.requests_per_minute, 10) << "the key's own limit";
  EXPECT_EQ(p->limits.tokens_per_minute, 1000) << "the server's default";
  EXPECT_EQ(p->limits.max_streams, 3);
  EXPECT_EQ(p->owner(), std::to_string(made.record.id));
  EXPECT_FALSE(ring.authenticate(made.key + "x"));
  EXPECT_FALSE(ring.authenticate(""));
  EXPECT_FALSE(ring.authenticate(made.record.hash)) << "the hash is not a key";
  ASSERT_TRUE(db_->revoke_api_key("app", 1));
  ring.reload();
  EXPECT_FALSE(ring.authenticate(made.key));
  EXPECT_FALSE(ring.enabled());
}

TEST_F(KeyRingTest, ExpiredKeysAreRefusedAndNewKeysArriveByRefresh) {
  KeyRing ring(*db_, Limits{}, 50ms);
  EXPECT_FALSE(ring.enabled());
  KeySpec spec;
  spec.name = "short";
  spec.expires_in_ms = 300;
  const auto made = create_key(*db_, spec);
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (!ring.enabled() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(ring.enabled());
  EXPECT_TRUE(ring.authenticate(made.key));
  std::this_thread::sleep_for(350ms);
  EXPECT_FALSE(ring.authenticate(made.key));
}

TEST_F(KeyRingTest, LastUseIsWrittenBack) {
  KeySpec spec;
  spec.name = "app";
  const auto made = create_key(*db_, spec);
  {
    KeyRing ring(*db_, Limits{}, 50ms);
    ASSERT_TRUE(ring.authenticate(made.key));
  }
  const auto keys = db_->list_api_keys();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_GT(keys[0].last_used_at, 0);
}

TEST_F(KeyRingTest, KeySpecsAreValidated) {
  KeySpec spec;
  spec.name = "bad name";
  EXPECT_THROW(create_key(*db_, spec), Error);
  spec.name = "ok";
  spec.scope = "root";
  EXPECT_THROW(create_key(*db_, spec), Error);
  spec.scope = "read";
  spec.models = {""};
  EXPECT_THROW(create_key(*db_, spec), Error);
  EXPECT_THROW(key_spec_from_json({{"name", 5}}), Error);
  EXPECT_THROW(key_spec_from_json({{"name", "x"}, {"models", "a"}}), Error);
  EXPECT_THROW(key_spec_from_json({{"name", "x"}, {"expires", "soon"}}), Error);
  EXPECT_THROW(key_spec_from_json({{"name", "x"}, {"requests_per_minute", -3}}), Error);
  const auto s =
      key_spec_from_json({{"name", "x"}, {"expires", "30d"}, {"models", {"a*"}}, {"max_streams", 2}});
  EXPECT_EQ(s.expires_in_ms, 30LL * 24 * 3600 * 1000);
  EXPECT_EQ(s.max_streams, 2);
  EXPECT_EQ(s.requests_per_minute, -1);
  EXPECT_EQ(parse_since("", 1000), 0);
  EXPECT_EQ(parse_since("1h", 10'000'000), 10'000'000 - 3'600'000);
  EXPECT_EQ(parse_since("1700000000000", 5), 1700000000000);
  EXPECT_THROW(parse_since("yesterday", 5), Error);
}

}  // namespace
}  // namespace rmm::access
