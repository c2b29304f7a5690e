// RecentSpeeds: the last minute of finished generations, with fixed times.
#include <gtest/gtest.h>

#include "serving/recent_speeds.hpp"

namespace rmm::test {
namespace {

using serving::FinishedGeneration;
using serving::RecentSpeeds;

FinishedGeneration gen(int64_t end_ms, int prompt_tokens, double prompt_ms, int generated,
                       double generation_ms, double queue_ms = 0.0) {
  return {end_ms, prompt_tokens, prompt_ms, generated, generation_ms, queue_ms};
}

TEST(RecentSpeeds, EmptyHasNoFigures) {
  RecentSpeeds r;
  const auto s = r.summary(1'000'000);
  EXPECT_EQ(s.window_s, 60);
  EXPECT_EQ(s.requests, 0);
  EXPECT_FALSE(s.prompt_tokens_per_second);
  EXPECT_FALSE(s.generation_tokens_per_second);
  EXPECT_FALSE(s.time_to_first_token_ms);
}

TEST(RecentSpeeds, SumsTokensOverTime) {
  RecentSpeeds r;
  r.add(gen(1'000'000, 100, 100.0, 10, 500.0, 5.0));
  r.add(gen(1'001'000, 300, 300.0, 30, 1500.0, 15.0));
  const auto s = r.summary(1'002'000);
  EXPECT_EQ(s.requests, 2);
  EXPECT_EQ(s.prompt_tokens, 400);
  EXPECT_EQ(s.generated_tokens, 40);
  ASSERT_TRUE(s.prompt_tokens_per_second);
  EXPECT_DOUBLE_EQ(*s.prompt_tokens_per_second, 1000.0);  // 400 tokens / 400 ms
  ASSERT_TRUE(s.generation_tokens_per_second);
  EXPECT_DOUBLE_EQ(*s.generation_tokens_per_second, 20.0);  // 40 tokens / 2000 ms
  ASSERT_TRUE(s.time_to_first_token_ms);
  EXPECT_DOUBLE_EQ(*s.time_to_first_token_ms, (105.0 + 315.0) / 2);  // median of two
}

TEST(RecentSpeeds, MedianTimeToFirstToken) {
  RecentSpeeds r;
  // queue + prompt: 50, 1000, 20 → median 50 (not the mean).
  r.add(gen(10'000, 1, 40.0, 1, 1.0, 10.0));
  r.add(gen(10'001, 1, 900.0, 1, 1.0, 100.0));
  r.add(gen(10'002, 1, 20.0, 1, 1.0, 0.0));
  const auto s = r.summary(10'003);
  ASSERT_TRUE(s.time_to_first_token_ms);
  EXPECT_DOUBLE_EQ(*s.time_to_first_token_ms, 50.0);
}

TEST(RecentSpeeds, ExpiresAfterSixtySeconds) {
  RecentSpeeds r;
  r.add(gen(100'000, 10, 10.0, 10, 100.0));
  r.add(gen(130'000, 20, 10.0, 20, 100.0));
  EXPECT_EQ(r.summary(159'999).requests, 2);
  auto s = r.summary(160'000);  // the first ended 60 s ago: gone
  EXPECT_EQ(s.requests, 1);
  EXPECT_EQ(s.generated_tokens, 20);
  ASSERT_TRUE(s.generation_tokens_per_second);
  EXPECT_DOUBLE_EQ(*s.generation_tokens_per_second, 200.0);
  s = r.summary(190'000);
  EXPECT_EQ(s.requests, 0);
  EXPECT_FALSE(s.generation_tokens_per_second);
  EXPECT_FALSE(s.time_to_first_token_ms);
}

TEST(RecentSpeeds, OutOfOrderEndsAndNoTime) {
  RecentSpeeds r;
  r.add(gen(50'000, 0, 0.0, 0, 0.0, 3.0));  // nothing timed: no rates
  r.add(gen(20'000, 5, 0.0, 0, 0.0));       // ended earlier, added later
  auto s = r.summary(60'000);
  EXPECT_EQ(s.requests, 2);
  EXPECT_FALSE(s.prompt_tokens_per_second);
  EXPECT_FALSE(s.generation_tokens_per_second);
  ASSERT_TRUE(s.time_to_first_token_ms);
  EXPECT_DOUBLE_EQ(*s.time_to_first_token_ms, 1.5);
  s = r.summary(80'000);  // the earlier one expired, the later stays
  EXPECT_EQ(s.requests, 1);
  EXPECT_EQ(s.prompt_tokens, 0);
}

}  // namespace
}  // namespace rmm::test
