// [cache] settings from config.toml and the duration syntax of --cache-ttl.
#include <gtest/gtest.h>

#include <fstream>

#include "cache/settings.hpp"
#include "core/error.hpp"
#include "support/test_env.hpp"

using namespace rmm::cache;
using rmm::parse_duration_ms;

TEST(CacheSettings, Durations) {
  EXPECT_EQ(parse_duration_ms("0", "ttl"), 0);
  EXPECT_EQ(parse_duration_ms("90", "ttl"), 90000);
  EXPECT_EQ(parse_duration_ms("90s", "ttl"), 90000);
  EXPECT_EQ(parse_duration_ms("1500ms", "ttl"), 1500);
  EXPECT_EQ(parse_duration_ms("30m", "ttl"), 30 * 60000);
  EXPECT_EQ(parse_duration_ms("24h", "ttl"), 24LL * 3600000);
  EXPECT_EQ(parse_duration_ms("1.5h", "ttl"), 5400000);
  EXPECT_EQ(parse_duration_ms("7d", "ttl"), 7LL * 86400000);
  for (const char* bad : {"", "h", "-1h", "3 parsecs", "1e30d"}) {
    try {
      parse_duration_ms(bad, "--cache-ttl");
      ADD_FAILURE() << "'" << bad << "' was accepted";
    } catch (const rmm::Error& e) {
      EXPECT_EQ(e.kind(), rmm::ErrorKind::InvalidArgument);
      EXPECT_NE(std::string(e.what()).find("--cache-ttl"), std::string::npos) << e.what();
    }
  }
}

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
