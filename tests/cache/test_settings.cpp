// [cache] settings from config.toml (the duration syntax itself: tests/core/test_units.cpp).
#include <gtest/gtest.h>

#include <fstream>

#include "cache/settings.hpp"
#include "core/error.hpp"
#include "support/test_env.hpp"

using namespace rmm::cache;

TEST(CacheSettings, FromConfig) {
  const auto dir = rmm::test::temp_dir("cache-settings");
  const CacheOptions d = options_from_config(rmm::Config::load(dir / "missing.toml"));
  EXPECT_TRUE(d.enabled);
  EXPECT_EQ(d.ttl_ms, 24LL * 3600000);
  EXPECT_EQ(d.max_bytes, 256LL * 1024 * 1024);

  std::ofstream(dir / "config.toml") << "[cache]\nenabled = false\nttl = \"2h\"\nmax_size = \"64MiB\"\n";
  const CacheOptions o = options_from_config(rmm::Config::load(dir / "config.toml"));
  EXPECT_FALSE(o.enabled);
  EXPECT_EQ(o.ttl_ms, 2LL * 3600000);
  EXPECT_EQ(o.max_bytes, 64LL * 1024 * 1024);

  std::ofstream(dir / "bad.toml") << "[cache]\nttl = \"soon\"\n";
  try {
    options_from_config(rmm::Config::load(dir / "bad.toml"));
    FAIL() << "a bad ttl was accepted";
  } catch (const rmm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("[cache] ttl"), std::string::npos) << e.what();
  }
}
