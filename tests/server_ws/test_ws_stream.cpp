// GET /api/ws against a real `rmm serve`: token streams checked against what
// `rmm run` prints for the same prompt, and the stream controls.
#include <cmath>
#include <thread>

#include "ws_fixture.hpp"

using namespace rmm::test;

namespace {

const std::string kPrompt = "Once upon a time";

}  // namespace

TEST_F(WsTest, GreedyTokensMatchRmmRunAndCarryLogprobs) {
  auto c = connect();
  c->send(generate("g1", kPrompt, 24, 3));
  const auto msgs = until_complete(*c, "g1");
  const auto tokens = of_type(msgs, "token", "g1");
  ASSERT_EQ(tokens.size(), 24u);  // this prompt does not reach end-of-story within 24 tokens
  EXPECT_EQ(joined_text(msgs, "g1"), cli_text(kPrompt, 24, {"--raw"}));

  double last_t = 0;
  for (const auto& t : tokens) {
    const auto& alts = t["alternatives"];
    ASSERT_EQ(alts.size(), 3u) << t.dump();
    for (size_t i = 1; i < alts.size(); ++i)
      EXPECT_GE(alts[i - 1]["logprob"].get<double>(), alts[i]["logprob"].get<double>()) << t.dump();
    // Greedy picks the most likely token: the chosen one is alternatives[0], with its logprob.
    EXPECT_EQ(t["token_id"], alts[0]["token_id"]) << t.dump();
    EXPECT_DOUBLE_EQ(t["logprob"].get<double>(), alts[0]["logprob"].get<double>());
    EXPECT_LE(t["logprob"].get<double>(), 0.0);
    double mass = 0;
    for (const auto& a : alts) mass += std::exp(a["logprob"].get<double>());
    EXPECT_LE(mass, 1.0 + 1e-4);
    EXPECT_GE(t["t_ms"].get<double>(), last_t);
    last_t = t["t_ms"].get<double>();
  }

  const auto& done = msgs.back();
  EXPECT_EQ(done["finish_reason"], "length");
  EXPECT_EQ(done["usage"]["completion_tokens"], 24);
  EXPECT_GT(done["usage"]["prompt_tokens"].get<int>(), 0);
  EXPECT_EQ(done["usage"]["total_tokens"].get<int>(),
            done["usage"]["prompt_tokens"].get<int>() + done["usage"]["completion_tokens"].get<int>());
  for (const char* k : {"prompt_ms", "generation_ms", "prompt_tokens_per_second",
                        "generation_tokens_per_second", "cached_tokens"})
    EXPECT_TRUE(done["timings"].contains(k)) << k << " missing in " << done.dump();
}

TEST_F(WsTest, TokenIdsMatchRmmRunJson) {
  auto c = connect();
  c->send(generate("ids", kPrompt, 16, 0));
  const auto tokens = of_type(until_complete(*c, "ids"), "token", "ids");
  // `rmm run --json` prints one object per token: an independent front end over the same model.
  const std::string out = cli_text(kPrompt, 16, {"--raw", "--json", "--top-logprobs", "0"});
  std::vector<int> expected;
  size_t pos = 0;
  while (pos < out.size()) {
    const size_t nl = out.find('\n', pos);
    const auto j = json::parse(out.substr(pos, nl - pos), nullptr, false);
    pos = nl == std::string::npos ? out.size() : nl + 1;
    if (j.is_object() && j.contains("token_id")) expected.push_back(j["token_id"].get<int>());
  }
  ASSERT_EQ(tokens.size(), expected.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_EQ(tokens[i]["token_id"].get<int>(), expected[i]) << i;
    EXPECT_TRUE(tokens[i]["alternatives"].empty());
  }
}

TEST_F(WsTest, ChatMessagesUseTheChatTemplate) {
  // stories260K has no template; the server, like llama.cpp, falls back to chatml.
  auto c = connect();
  c->send({{"type", "generate"},
           {"id", "chat"},
           {"messages", {{{"role", "user"}, {"content", "Tell me a story"}}}},
           {"params", {{"temperature", 0}, {"max_tokens", 20}}}});
  const auto msgs = until_complete(*c, "chat");
  EXPECT_EQ(joined_text(msgs, "chat"), cli_text("Tell me a story", 20, {"--chat-template", "chatml"}));
  EXPECT_EQ(msgs.back()["usage"]["completion_tokens"].get<size_t>(), of_type(msgs, "token", "chat").size());
}

TEST_F(WsTest, TwoGenerationsOnOneSocketRunTogether) {
  const std::string other = "The little dog";
  auto c = connect();
  c->send(generate("a", kPrompt, 30, 2));
  c->send(generate("b", other, 30, 2));
  std::vector<json> msgs;
  int completes = 0;
  while (completes < 2) {
    msgs.push_back(c->next());
    if (msgs.back()["type"] == "complete") ++completes;
    ASSERT_NE(msgs.back()["type"], "error") << msgs.back().dump();
  }
  EXPECT_EQ(joined_text(msgs, "a"), cli_text(kPrompt, 30, {"--raw"}));
  EXPECT_EQ(joined_text(msgs, "b"), cli_text(other, 30, {"--raw"}));
  for (const char* id : {"a", "b"}) {
    const auto done = of_type(msgs, "complete", id);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0]["usage"]["completion_tokens"].get<size_t>(), of_type(msgs, "token", id).size());
  }
}

TEST_F(WsTest, StopCancelsMidway) {
  auto c = connect();
  c->send(generate("long", kPrompt, 400, 0));
  auto msgs = c->until([](const json& m) { return m["type"] == "token"; });
  c->send({{"type", "stop"}, {"id", "long"}});
  auto rest = until_complete(*c, "long");
  msgs.insert(msgs.end(), rest.begin(), rest.end());
  const auto& done = msgs.back();
  EXPECT_EQ(done["finish_reason"], "cancelled") << done.dump();
  const auto tokens = of_type(msgs, "token", "long");
  EXPECT_LT(tokens.size(), 400u);
  EXPECT_EQ(done["usage"]["completion_tokens"].get<size_t>(), tokens.size());
  joined_text(msgs, "long");  // indexes 0..N-1
  // The id is free again, and a stop for it now is an error.
  c->send({{"type", "stop"}, {"id", "long"}});
  EXPECT_EQ(until_error(*c).back()["error_type"], "not_found");
}

TEST_F(WsTest, PauseHoldsTokensAndResumeDeliversThemInOrder) {
  const int n = 120;
  auto c = connect();
  c->send(generate("p", kPrompt, n, 1));
  auto msgs = c->until([](const json& m) { return m["type"] == "token"; });
  c->send({{"type", "pause"}, {"id", "p"}});
  auto more = c->until([](const json& m) { return m["type"] == "paused"; });
  msgs.insert(msgs.end(), more.begin(), more.end());
  const size_t before_pause = of_type(msgs, "token", "p").size();
  // The engine goes on meanwhile and finishes; nothing of "p" may come until resume.
  std::this_thread::sleep_for(400ms);
  c->send({{"type", "stop"}, {"id", "probe"}});  // its error marks "everything sent so far"
  const auto during = until_error(*c);
  EXPECT_EQ(during.back()["id"], "probe");
  EXPECT_EQ(during.size(), 1u) << "messages arrived while paused: " << during.front().dump();

  c->send({{"type", "resume"}, {"id", "p"}});
  const auto after = until_complete(*c, "p");
  ASSERT_EQ(after.front()["type"], "resumed") << after.front().dump();
  const size_t held = after.front()["buffered"].get<size_t>();
  EXPECT_GT(held, 0u);
  msgs.insert(msgs.end(), after.begin(), after.end());
  const auto tokens = of_type(msgs, "token", "p");
  EXPECT_LT(before_pause, tokens.size());
  // Held: the tokens made while paused, and the complete if the engine finished meanwhile.
  EXPECT_LE(held, tokens.size() - before_pause + 1);
  EXPECT_EQ(joined_text(msgs, "p"), cli_text(kPrompt, n, {"--raw"}));
  EXPECT_EQ(after.back()["usage"]["completion_tokens"].get<size_t>(), tokens.size());
}

TEST_F(WsTest, StopWhilePausedSendsWhatWasHeldThenCancelled) {
  auto c = connect();
  c->send(generate("sp", kPrompt, 400, 0));
  auto msgs = c->until([](const json& m) { return m["type"] == "token"; });
  c->send({{"type", "pause"}, {"id", "sp"}});
  auto more = c->until([](const json& m) { return m["type"] == "paused"; });
  msgs.insert(msgs.end(), more.begin(), more.end());
  c->send({{"type", "stop"}, {"id", "sp"}});
  more = until_complete(*c, "sp");
  msgs.insert(msgs.end(), more.begin(), more.end());
  EXPECT_EQ(msgs.back()["finish_reason"], "cancelled") << msgs.back().dump();
  // Every token made is delivered, in order, before the complete.
  EXPECT_EQ(msgs.back()["usage"]["completion_tokens"].get<size_t>(), of_type(msgs, "token", "sp").size());
  joined_text(msgs, "sp");
}

TEST_F(WsTest, ZeroMaxTokensCompletesAtOnce) {
  auto c = connect();
  c->send(generate("zero", kPrompt, 0, 2));
  const auto msgs = until_complete(*c, "zero");
  EXPECT_TRUE(of_type(msgs, "token").empty());
  EXPECT_EQ(msgs.back()["finish_reason"], "length");
  EXPECT_EQ(msgs.back()["usage"]["completion_tokens"], 0);
}

// Every token event carries the entropy of the whole distribution; a generation
// continued from the first k token ids of a greedy answer gives back the rest,
// with indexes that go on from k.
TEST_F(WsTest, ContinueFromTokenIdsReproducesTheAnswerAndEventsCarryEntropy) {
  const int n = 24, k = 10;
  auto c = connect();
  json first = {{"type", "generate"},
                {"id", "orig"},
                {"messages", {{{"role", "user"}, {"content", "Tell me a story"}}}},
                {"params", {{"temperature", 0}, {"max_tokens", n}}},
                {"alternatives", 2},
                {"cache", false}};
  c->send(first);
  const auto tokens = of_type(until_complete(*c, "orig"), "token", "orig");
  ASSERT_EQ(tokens.size(), static_cast<size_t>(n));
  std::vector<int> ids;
  for (const auto& t : tokens) {
    ids.push_back(t["token_id"].get<int>());
    ASSERT_TRUE(t.contains("entropy")) << t.dump();
    EXPECT_GT(t["entropy"].get<double>(), 0.0);
    EXPECT_LE(t["entropy"].get<double>(), std::log(512.0) + 1e-4);
  }

  json cont = first;
  cont["id"] = "cont";
  cont["params"]["max_tokens"] = n - k;
  cont["continue_from"] = {{"tokens", std::vector<int>(ids.begin(), ids.begin() + k)}};
  c->send(cont);
  const auto msgs = until_complete(*c, "cont");
  const auto more = of_type(msgs, "token", "cont");
  ASSERT_EQ(more.size(), static_cast<size_t>(n - k));
  for (size_t i = 0; i < more.size(); ++i) {
    EXPECT_EQ(more[i]["index"].get<int>(), k + static_cast<int>(i)) << more[i].dump();
    EXPECT_EQ(more[i]["token_id"].get<int>(), ids[static_cast<size_t>(k) + i]) << i;
    EXPECT_EQ(more[i]["text"], tokens[static_cast<size_t>(k) + i]["text"]) << i;
    EXPECT_NEAR(more[i]["entropy"].get<double>(), tokens[static_cast<size_t>(k) + i]["entropy"].get<double>(),
                1e-3);
  }
  EXPECT_EQ(msgs.back()["usage"]["completion_tokens"], n - k);
}

TEST_F(WsTest, ContinueFromIdsOutsideTheVocabularyAreRefusedByIndex) {
  auto c = connect();
  auto g = generate("bad", kPrompt, 4);
  g["continue_from"] = {{"tokens", {5, 6, 70000}}};
  c->send(g);
  auto errs = of_type(until_error(*c), "error", "bad");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0]["error_type"], "invalid_request");
  const std::string m = errs[0]["message"];
  EXPECT_NE(m.find("continue_from.tokens[2]"), std::string::npos) << m;
  EXPECT_NE(m.find("512 tokens"), std::string::npos) << m;
  // The shape is checked as the message is read.
  g["continue_from"] = {{"tokens", "5 6"}};
  c->send(g);
  errs = of_type(until_error(*c), "error", "bad");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0]["message"].get<std::string>().find("continue_from"), std::string::npos) << errs[0].dump();
}
