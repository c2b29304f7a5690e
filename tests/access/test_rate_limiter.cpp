// Token buckets against a clock the test moves.
#include <gtest/gtest.h>

#include "access/rate_limiter.hpp"

namespace rmm::access {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

std::string header(const Headers& h, const std::string& name) {
  for (const auto& [k, v] : h) {
    if (k == name) return v;
  }
  return "";
}

Principal client(const std::string& bucket, Limits l) {
  Principal p;
  p.bucket = bucket;
  p.limits = l;
  return p;
}

TEST(RateLimiter, ResetTimesAsOpenAIWritesThem) {
  EXPECT_EQ(format_reset(0ms), "0ms");
  EXPECT_EQ(format_reset(17ms), "17ms");
  EXPECT_EQ(format_reset(1000ms), "1s");
  EXPECT_EQ(format_reset(1500ms), "1.5s");
  EXPECT_EQ(format_reset(60000ms), "1m0s");
  EXPECT_EQ(format_reset(360000ms + 5000ms), "6m5s");
}

TEST(RateLimiter, NoLimitsNoHeaders) {
  RateLimiter r;
  const auto d = r.admit(client("a", {}), true);
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.headers.empty());
  EXPECT_EQ(r.clients(), 0u) << "clients without limits take no memory";
}

TEST(RateLimiter, RequestsBurstThenRefillSteadily) {
  RateLimiter r;
  const auto p = client("a", {60, 0, 0});  // one a second
  const auto t0 = Clock::now();
  for (int i = 0; i < 60; ++i) {
    const auto d = r.admit(p, false, t0);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(header(d.headers, "x-ratelimit-remaining-requests"), std::to_string(59 - i));
  }
  const auto refused = r.admit(p, false, t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 1);
  EXPECT_EQ(header(refused.headers, "x-ratelimit-reset-requests"), "1m0s");
  EXPECT_FALSE(r.admit(p, false, t0 + 500ms).allowed);
  EXPECT_TRUE(r.admit(p, false, t0 + 1000ms).allowed);
  EXPECT_FALSE(r.admit(p, false, t0 + 1000ms).allowed);
  // Another client has its own bucket.
  EXPECT_TRUE(r.admit(client("b", {60, 0, 0}), false, t0).allowed);
}

TEST(RateLimiter, TokensAreChargedAfterwardsAndTheirDebtWaits) {
  RateLimiter r;
  const auto p = client("a", {0, 600, 0});  // 10 a second
  const auto t0 = Clock::now();
  ASSERT_TRUE(r.admit(p, true, t0).allowed);
  r.charge_tokens(p, 1200, t0);  // twice the minute's allowance: 600 in debt
  const auto d = r.admit(p, true, t0);
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.why.find("600 tokens per minute"), std::string::npos) << d.why;
  EXPECT_EQ(d.retry_after_s, 61);  // back above zero after 600 tokens at 10 a second
  EXPECT_EQ(header(d.headers, "x-ratelimit-remaining-tokens"), "0");
  EXPECT_FALSE(r.admit(p, true, t0 + 59s).allowed);
  EXPECT_TRUE(r.admit(p, true, t0 + 61s).allowed);
}

TEST(RateLimiter, StreamsAtOnce) {
  RateLimiter r;
  const auto p = client("a", {0, 0, 2});
  EXPECT_TRUE(r.admit(p, true).allowed);
  EXPECT_TRUE(r.admit(p, true).allowed);
  EXPECT_TRUE(r.admit(p, false).allowed) << "requests that start no generation do not count";
  const auto d = r.admit(p, true);
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.why.find("2 generations at once"), std::string::npos);
  r.end_stream(p);
  EXPECT_TRUE(r.admit(p, true).allowed);
}

TEST(RateLimiter, IdleClientsAreForgotten) {
  RateLimiter r;
  const auto t0 = Clock::now();
  for (int i = 0; i < 1000; ++i) r.admit(client(std::to_string(i), {10, 0, 0}), false, t0);
  EXPECT_EQ(r.clients(), 1000u);
  for (int i = 0; i < 100; ++i) r.admit(client("late", {10, 0, 0}), false, t0 + 2min);
  // Pruned on the 1024th admission: only the client seen in the last minute stays.
  EXPECT_EQ(r.clients(), 1u);
}

}  // namespace
}  // namespace rmm::access
