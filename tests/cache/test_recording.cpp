// Recordings survive the JSON round trip bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "cache/recording.hpp"
#include "core/error.hpp"

using namespace rmm::cache;
using rmm::engine::StopReason;

TEST(Recording, RoundTripIsExact) {
  Recording rec;
  rmm::engine::TokenEvent a;
  a.index = 0;
  a.token = 17;
  a.text = "";
  a.piece = std::string("\xe2\x82", 2);  // the first two bytes of a euro sign
  a.logprob = -0.123456789f;
  a.top = {{17, std::string("\xe2\x82", 2), -0.123456789f},
           {3, "x\"\n\\", -1e-30f},
           {4, "z", -std::numeric_limits<float>::infinity()}};
  rmm::engine::TokenEvent b;
  b.index = 1;
  b.token = 18;
  b.text = "\xe2\x82\xac and more";
  b.piece = "\xac";
  b.logprob = std::numeric_limits<float>::quiet_NaN();
  rec.events = {a, b};
  rec.result.stop_reason = StopReason::StopString;
  rec.result.text = b.text;
  rec.result.tokens = {17, 18};
  rec.result.timings.prompt_tokens = 5;
  rec.result.timings.generated_tokens = 2;
  rec.result.seed = 4294967295u;
  rec.result.stop_string = "\n\n";

  const Recording back = recording_from_json(to_json(rec));
  ASSERT_EQ(back.events.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const auto &x = rec.events[i], &y = back.events[i];
    EXPECT_EQ(y.index, x.index);
    EXPECT_EQ(y.token, x.token);
    EXPECT_EQ(y.text, x.text);
    EXPECT_EQ(y.piece, x.piece);
    if (std::isnan(x.logprob)) {
      EXPECT_TRUE(std::isnan(y.logprob));
    } else {
      EXPECT_EQ(y.logprob, x.logprob);  // exact, not near
    }
    ASSERT_EQ(y.top.size(), x.top.size());
    for (size_t k = 0; k < x.top.size(); ++k) {
      EXPECT_EQ(y.top[k].token, x.top[k].token);
      EXPECT_EQ(y.top[k].text, x.top[k].text);
      EXPECT_EQ(y.top[k].logprob, x.top[k].logprob);
    }
  }
  EXPECT_EQ(back.result.stop_reason, StopReason::StopString);
  EXPECT_EQ(back.result.text, rec.result.text);
  EXPECT_EQ(back.result.tokens, rec.result.tokens);
  EXPECT_EQ(back.result.timings.prompt_tokens, 5);
  EXPECT_EQ(back.result.timings.generated_tokens, 2);
  EXPECT_EQ(back.result.seed, 4294967295u);
  EXPECT_EQ(back.result.stop_string, "\n\n");
}

TEST(Recording, BadEntriesAreErrorsNotCrashes) {
  for (const char* text : {"", "[]", "{\"format\":1}", "{\"format\":2,\"events\":[],\"result\":{}}",
                           "{\"format\":1,\"events\":[{\"token\":\"x\"}],\"result\":{}}",
                           "{\"format\":1,\"events\":[],\"result\":{\"stop_reason\":\"nope\"}}"}) {
    EXPECT_THROW(recording_from_json(text), rmm::Error) << text;
  }
}

TEST(Recording, OnlyNormalEndsAreKept) {
  EXPECT_TRUE(completed_normally(StopReason::Length));
  EXPECT_TRUE(completed_normally(StopReason::StopString));
  EXPECT_TRUE(completed_normally(StopReason::EndOfGeneration));
  EXPECT_FALSE(completed_normally(StopReason::Cancelled));
  EXPECT_FALSE(completed_normally(StopReason::Error));
}
