// Sizes and durations as settings spell them (parse_size, parse_duration_ms)
// and sizes as rmm prints them (format_bytes).
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/units.hpp"

using namespace rmm;

TEST(Units, SizesWithUnits) {
  EXPECT_EQ(parse_size("1048576", "--max-body"), 1048576u);
  EXPECT_EQ(parse_size("8MiB", "--max-body"), 8u * 1024 * 1024);
  EXPECT_EQ(parse_size("2 GiB", "--max-body"), 2ull * 1024 * 1024 * 1024);
  EXPECT_EQ(parse_size("1.5KiB", "--max-body"), 1536u);
  EXPECT_EQ(parse_size("3MB", "--max-body"), 3000000u);
  for (const char* bad : {"", "abc", "-1", "5XB", "1e30GiB"}) {
    EXPECT_THROW(parse_size(bad, "--max-body"), Error) << bad;
  }
}

TEST(Units, Durations) {
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
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
      EXPECT_NE(std::string(e.what()).find("--cache-ttl"), std::string::npos) << e.what();
    }
  }
}

TEST(Units, FormatBytes) {
  EXPECT_EQ(format_bytes(812), "812 B");
  EXPECT_EQ(format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(format_bytes(8ull * 1024 * 1024), "8.00 MiB");
  EXPECT_EQ(format_bytes(parse_size("2GiB", "size")), "2.00 GiB");
}
