// The one JSON shape of token events, timings and results: the CLI's --json
// lines, the WebSocket's messages and stored history all carry it.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "codec/generation_json.hpp"
#include "server/openai/responses.hpp"
#include "server/ws/protocol.hpp"
#include "serving/chat_messages.hpp"

namespace rmm {
namespace {

using json = nlohmann::json;

engine::TokenEvent event() {
  engine::TokenEvent ev;
  ev.index = 3;
  ev.token = 42;
  ev.text = "Hi";
  ev.piece = "Hi";
  ev.logprob = -0.5f;
  ev.entropy = 1.25f;
  ev.top = {{42, "Hi", -0.5f}, {7, std::string("\xe2\x82", 2), -1.5f}, {9, "x", -INFINITY}};
  ev.t_ms = 12.5;
  return ev;
}

std::set<std::string> keys(const json& j) {
  std::set<std::string> k;
  for (const auto& [key, _] : j.items()) k.insert(key);
  return k;
}

}  // namespace

TEST(GenerationJson, TokenEventShape) {
  const json j = codec::token_event_json(event());
  EXPECT_EQ(keys(j), (std::set<std::string>{"index", "token_id", "text", "logprob", "entropy", "alternatives",
                                            "t_ms"}));
  EXPECT_EQ(j["entropy"], 1.25);
  EXPECT_EQ(j["index"], 3);
  EXPECT_EQ(j["token_id"], 42);
  ASSERT_EQ(j["alternatives"].size(), 3u);
  EXPECT_EQ(keys(j["alternatives"][0]), (std::set<std::string>{"token_id", "text", "logprob"}));
  EXPECT_EQ(j["alternatives"][1]["text"], "\xef\xbf\xbd");  // a partial character becomes U+FFFD
  EXPECT_TRUE(j["alternatives"][2]["logprob"].is_null());   // -inf has no JSON spelling
  EXPECT_NO_THROW((void)j.dump());                          // valid UTF-8 throughout
}

TEST(GenerationJson, EntropyIsLeftOutWhenNotComputedAndSurvivesTheCacheRecord) {
  auto ev = event();
  ev.entropy = NAN;  // log-probabilities not asked for
  EXPECT_FALSE(codec::token_event_json(ev).contains("entropy"));
  EXPECT_TRUE(std::isnan(codec::token_event_from_record(codec::token_event_record(ev)).entropy));
  ev.entropy = 2.75f;
  EXPECT_EQ(codec::token_event_from_record(codec::token_event_record(ev)).entropy, 2.75f);
  // A recording from before entropies were kept reads as "not computed".
  json old = codec::token_event_record(ev);
  old.erase("entropy");
  EXPECT_TRUE(std::isnan(codec::token_event_from_record(old).entropy));
}

TEST(GenerationJson, TheWebSocketSendsTheSameShape) {
  json ws = json::parse(server::ws::token_message("g", event()));
  EXPECT_EQ(ws["type"], "token");
  EXPECT_EQ(ws["id"], "g");
  ws.erase("type");
  ws.erase("id");
  EXPECT_EQ(ws, codec::token_event_json(event()));

  engine::GenerationResult r;
  r.stop_reason = engine::StopReason::StopString;
  r.stop_string = "END";
  r.seed = 9;
  r.timings.prompt_tokens = 4;
  r.timings.generated_tokens = 2;
  json done = json::parse(server::ws::complete_message("g", r));
  EXPECT_EQ(done["type"], "complete");
  done.erase("type");
  done.erase("id");
  EXPECT_EQ(done, codec::result_json(r));
  EXPECT_EQ(done["finish_reason"], "stop");
  EXPECT_EQ(done["stop_reason"], "stop");
  EXPECT_EQ(done["stop_string"], "END");
  EXPECT_EQ(done["usage"]["total_tokens"], 6);
}

TEST(GenerationJson, OneTimingsShapeEverywhere) {
  engine::Timings t;
  t.prompt_tokens = 10;
  t.cached_tokens = 4;
  t.generated_tokens = 5;
  t.prompt_ms = 20;
  t.generation_ms = 40;
  const json j = codec::timings_json(t);
  EXPECT_EQ(keys(j), (std::set<std::string>{"prompt_tokens", "cached_tokens", "generated_tokens", "queue_ms",
                                            "prompt_ms", "generation_ms", "prompt_tokens_per_second",
                                            "generation_tokens_per_second"}));
  // Stored history keeps the same object.
  EXPECT_EQ(json::parse(serving::timings_json(t)), j);
  EXPECT_EQ(json::parse(serving::answer_message("m", "x", t).timings_json), j);
}

TEST(GenerationJson, OneFinishReasonMapping) {
  using engine::StopReason;
  for (auto r : {StopReason::Length, StopReason::StopString, StopReason::EndOfGeneration,
                 StopReason::Cancelled, StopReason::Error}) {
    EXPECT_STREQ(server::ws::finish_reason(r), codec::finish_reason(r));
    // /v1 has the same words where OpenAI has one, and null otherwise.
    const char* openai = server::openai::finish_reason(r);
    if (openai) {
      EXPECT_STREQ(openai, codec::finish_reason(r));
    }
    EXPECT_EQ(openai == nullptr, r == StopReason::Cancelled || r == StopReason::Error);
  }
}

TEST(GenerationJson, ErrorsCarryMessageAndCode) {
  engine::GenerationResult r;
  r.stop_reason = engine::StopReason::Error;
  r.error = "the worker died";
  r.error_kind = ErrorKind::Unavailable;
  const json j = codec::result_json(r);
  EXPECT_EQ(j["finish_reason"], "error");
  EXPECT_EQ(j["message"], "the worker died");
  EXPECT_EQ(j["code"], "unavailable");
  const auto back = codec::result_from_record(codec::result_record(r));
  EXPECT_EQ(back.error, r.error);
  EXPECT_EQ(back.error_kind, ErrorKind::Unavailable);
}

}  // namespace rmm
