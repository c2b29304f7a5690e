// Non-streamed /v1/completions and /v1/chat/completions: the response shape,
// and texts that must equal what `rmm run` prints for the same prompt and
// settings (the CLI is verified against llama.cpp's llama-completion).
#include <chrono>
#include <cstdlib>
#include <set>

#include "server_fixture.hpp"

using namespace rmm::test;
using nlohmann::json;

namespace {

class ServerCompletions : public ServerSuite {};

const std::string kPrompt = "Once upon a time";

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void expect_usage(const json& j, int prompt_tokens, int completion_tokens) {
  const auto& u = j.at("usage");
  if (prompt_tokens >= 0) {
    EXPECT_EQ(u.at("prompt_tokens"), prompt_tokens) << u.dump();
  }
  EXPECT_EQ(u.at("completion_tokens"), completion_tokens) << u.dump();
  EXPECT_EQ(u.at("total_tokens").get<int>(),
            u.at("prompt_tokens").get<int>() + u.at("completion_tokens").get<int>())
      << u.dump();
}

void expect_common_shape(const json& j, const std::string& object) {
  EXPECT_TRUE(j.at("id").is_string() && !j["id"].get<std::string>().empty()) << j.dump();
  EXPECT_EQ(j.at("object"), object);
  EXPECT_TRUE(j.at("created").is_number_integer());
  EXPECT_LT(std::abs(j["created"].get<int64_t>() - unix_now()), 600) << "created is Unix seconds";
  EXPECT_EQ(j.at("model"), kModelId);
  ASSERT_EQ(j.at("choices").size(), 1u) << j.dump();
  EXPECT_EQ(j["choices"][0].at("index"), 0);
  EXPECT_TRUE(j["choices"][0].contains("logprobs")) << "OpenAI sends logprobs: null when not asked";
  EXPECT_TRUE(j["choices"][0]["logprobs"].is_null()) << j.dump();
  EXPECT_TRUE(j.at("usage").is_object());
}

TEST_F(ServerCompletions, GreedyCompletionEqualsTheCli) {
  auto j = completion({{"prompt", kPrompt}, {"max_tokens", 30}, {"temperature", 0}});
  expect_common_shape(j, "text_completion");
  EXPECT_EQ(j["choices"][0]["text"], cli_greedy(model(), kPrompt, 30));
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  // BOS + "▁Once ▁upon ▁a ▁time" (ids 403 407 261 378 in the model README's reference output).
  expect_usage(j, 5, 30);
}

TEST_F(ServerCompletions, PromptAsAnArrayOfOneString) {
  auto a = completion({{"prompt", {kPrompt}}, {"max_tokens", 12}, {"temperature", 0}});
  EXPECT_EQ(a["choices"][0]["text"], cli_greedy(model(), kPrompt, 12));
}

TEST_F(ServerCompletions, GreedyChatEqualsTheCliOnTheChatmlPrompt) {
  auto j =
      chat({{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 30}, {"temperature", 0}});
  expect_common_shape(j, "chat.completion");
  const auto& msg = j["choices"][0].at("message");
  EXPECT_EQ(msg.at("role"), "assistant");
  EXPECT_EQ(msg.at("content"), cli_greedy(model(), chatml_user("Hi"), 30));
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  expect_usage(j, -1, 30);
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 5);
}

TEST_F(ServerCompletions, ChatContentAsTextPartsEqualsPlainContent) {
  auto parts = chat({{"messages", {{{"role", "user"}, {"content", {{{"type", "text"}, {"text", "Hi"}}}}}}},
                     {"max_tokens", 16},
                     {"temperature", 0}});
  EXPECT_EQ(parts["choices"][0]["message"]["content"], cli_greedy(model(), chatml_user("Hi"), 16));
}

TEST_F(ServerCompletions, SystemAndMultiTurnMessagesUseChatml) {
  json messages = {{{"role", "system"}, {"content", "Tell a story."}},
                   {{"role", "user"}, {"content", "Hi"}},
                   {{"role", "assistant"}, {"content", "Hello! What story?"}},
                   {{"role", "user"}, {"content", "A dog"}}};
  auto j = chat({{"messages", messages}, {"max_tokens", 20}, {"temperature", 0}});
  const std::string prompt =
      "<|im_start|>system\nTell a story.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
      "<|im_start|>assistant\nHello! What story?<|im_end|>\n<|im_start|>user\nA dog<|im_end|>\n"
      "<|im_start|>assistant\n";
  EXPECT_EQ(j["choices"][0]["message"]["content"], cli_greedy(model(), prompt, 20));
}

TEST_F(ServerCompletions, MaxTokensEndsWithLengthAndExactUsage) {
  for (int n : {1, 7}) {
    auto j = completion({{"prompt", kPrompt}, {"max_tokens", n}, {"temperature", 0}});
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length") << n;
    EXPECT_EQ(j["choices"][0]["text"], cli_greedy(model(), kPrompt, n));
    expect_usage(j, 5, n);
  }
  auto c = chat({{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                 {"max_completion_tokens", 7},
                 {"temperature", 0}});
  EXPECT_EQ(c["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(c["choices"][0]["message"]["content"], cli_greedy(model(), chatml_user("Hi"), 7));
  expect_usage(c, -1, 7);
}

TEST_F(ServerCompletions, WithoutMaxTokensGenerationStopsAtTheContextWithLength) {
  // Greedy decoding of this model never samples EOS after this prompt (it loops), so only the context ends
  // it.
  auto j = completion({{"prompt", kPrompt}, {"temperature", 0}});
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  const int total = j["usage"]["total_tokens"];
  const int completion_tokens = j["usage"]["completion_tokens"];
  // 2048 cells for the server: 512 for each of the 4 sequences, or 2048 each with a unified cache.
  EXPECT_TRUE((total >= 510 && total <= 512) || (total >= 2046 && total <= 2048)) << j["usage"].dump();
  EXPECT_EQ(j["choices"][0]["text"], cli_greedy(model(), kPrompt, completion_tokens));
}

TEST_F(ServerCompletions, StopStringsEndWithStopAndAreNotEmitted) {
  struct Case {
    json stop;
    std::vector<std::string> cli;
  };
  const std::vector<Case> cases = {
      {"Lily", {"--stop", "Lily"}},
      {json::array({"park", "girl"}), {"--stop", "park", "--stop", "girl"}},
      {json::array({"re wa"}), {"--stop", "re wa"}},  // spans the tokens "there" and "was"
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.stop.dump());
    auto j = completion({{"prompt", kPrompt}, {"max_tokens", 40}, {"temperature", 0}, {"stop", c.stop}});
    std::vector<std::string> args{"--temp", "0", "-n", "40"};
    args.insert(args.end(), c.cli.begin(), c.cli.end());
    const std::string expected = cli_text(model(), kPrompt, args);
    EXPECT_EQ(j["choices"][0]["text"], expected);
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
    EXPECT_LT(j["usage"]["completion_tokens"].get<int>(), 40);
  }
  EXPECT_EQ(cli_text(model(), kPrompt, {"--temp", "0", "-n", "40", "--stop", "Lily"}),
            ", there was a little girl named ");  // the model README's reference text, up to "Lily"
  auto c = chat({{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                 {"max_tokens", 30},
                 {"temperature", 0},
                 {"stop", "Anna"}});
  EXPECT_EQ(c["choices"][0]["message"]["content"],
            cli_text(model(), chatml_user("Hi"), {"--temp", "0", "-n", "30", "--stop", "Anna"}));
  EXPECT_EQ(c["choices"][0]["finish_reason"], "stop");
}

TEST_F(ServerCompletions, SeedMakesTemperatureOneReproducible) {
  auto ask = [&](int seed) {
    return completion({{"prompt", kPrompt},
                       {"max_tokens", 30},
                       {"temperature", 1},
                       {"seed", seed}})["choices"][0]["text"]
        .get<std::string>();
  };
  EXPECT_EQ(ask(42), ask(42));
  std::set<std::string> texts;
  for (int seed : {1, 2, 3, 4}) texts.insert(ask(seed));
  EXPECT_GE(texts.size(), 2u) << "different seeds should give different samples";
}

TEST_F(ServerCompletions, SamplingParametersReachTheSampler) {
  // The same seed and filters as `rmm run` give the same sample.
  auto j = completion({{"prompt", kPrompt},
                       {"max_tokens", 30},
                       {"temperature", 1},
                       {"seed", 1234},
                       {"top_k", 20},
                       {"top_p", 0.9},
                       {"min_p", 0.05}});
  EXPECT_EQ(j["choices"][0]["text"], cli_text(model(), kPrompt,
                                              {"--temp", "1", "-s", "1234", "--top-k", "20", "--top-p", "0.9",
                                               "--min-p", "0.05", "-n", "30"}));
  // Penalties change even a greedy answer.
  auto p = completion({{"prompt", kPrompt},
                       {"max_tokens", 40},
                       {"temperature", 0},
                       {"frequency_penalty", 1.0},
                       {"presence_penalty", 0.5}});
  const std::string penalised = cli_text(
      model(), kPrompt, {"--temp", "0", "--frequency-penalty", "1", "--presence-penalty", "0.5", "-n", "40"});
  EXPECT_EQ(p["choices"][0]["text"], penalised);
  EXPECT_NE(penalised, cli_greedy(model(), kPrompt, 40));
}

TEST_F(ServerCompletions, LogitBiasIsApplied) {
  // 432 is "," (the fifth token of the model README's reference output), the greedy first token here.
  auto ban = completion(
      {{"prompt", kPrompt}, {"max_tokens", 10}, {"temperature", 0}, {"logit_bias", {{"432", -100}}}});
  const std::string banned = ban["choices"][0]["text"];
  EXPECT_EQ(banned, cli_text(model(), kPrompt, {"--temp", "0", "-n", "10", "-l", "432-100"}));
  EXPECT_NE(banned.substr(0, 1), ",");
  auto push = completion(
      {{"prompt", kPrompt}, {"max_tokens", 5}, {"temperature", 0}, {"logit_bias", {{"261", 100}}}});
  EXPECT_EQ(push["choices"][0]["text"],
            cli_text(model(), kPrompt, {"--temp", "0", "-n", "5", "-l", "261+100"}));
}

TEST_F(ServerCompletions, JsonSchemaResponseFormatOutputMatchesTheSchema) {
  const json schema = {{"type", "object"},
                       {"properties", {{"color", {{"type", "string"}, {"enum", {"red", "green", "blue"}}}}}},
                       {"required", {"color"}},
                       {"additionalProperties", false}};
  auto j = chat({{"messages", {{{"role", "user"}, {"content", "Pick a color."}}}},
                 {"max_tokens", 60},
                 {"temperature", 0},
                 {"response_format",
                  {{"type", "json_schema"}, {"json_schema", {{"name", "pick"}, {"schema", schema}}}}}});
  const std::string content = j["choices"][0]["message"]["content"];
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop") << content;
  json parsed = json::parse(content, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << content;
  ASSERT_EQ(parsed.size(), 1u) << content;
  const std::string color = parsed.at("color");
  EXPECT_TRUE(color == "red" || color == "green" || color == "blue") << content;
  EXPECT_EQ(content, cli_text(model(), chatml_user("Pick a color."),
                              {"--temp", "0", "-n", "60", "-j", schema.dump()}));
}

TEST_F(ServerCompletions, JsonObjectResponseFormatStartsAnObject) {
  auto j = chat({{"messages", {{{"role", "user"}, {"content", "Say something in JSON."}}}},
                 {"max_tokens", 40},
                 {"temperature", 0},
                 {"response_format", {{"type", "json_object"}}}});
  const std::string content = j["choices"][0]["message"]["content"];
  ASSERT_FALSE(content.empty());
  EXPECT_EQ(content.find_first_not_of(" \t\n"), content.find('{')) << content;
  if (j["choices"][0]["finish_reason"] == "stop") {
    EXPECT_TRUE(json::parse(content, nullptr, false).is_object()) << content;
  }
}

TEST_F(ServerCompletions, UnknownFieldsAreIgnoredAndNOfOneIsFine) {
  auto j = completion({{"prompt", kPrompt},
                       {"max_tokens", 4},
                       {"temperature", 0},
                       {"n", 1},
                       {"user", "someone"},
                       {"store", false},
                       {"metadata", {{"a", "b"}}},
                       {"some_future_field", {1, 2, 3}}});
  EXPECT_EQ(j["choices"][0]["text"], cli_greedy(model(), kPrompt, 4));
  auto c = chat({{"messages", {{{"role", "user"}, {"content", "Hi"}, {"name", "bob"}}}},
                 {"max_tokens", 4},
                 {"temperature", 0},
                 {"n", 1},
                 {"parallel_tool_calls", false},
                 {"service_tier", "auto"}});
  EXPECT_EQ(c["choices"][0]["finish_reason"], "length");
}

TEST_F(ServerCompletions, EmptyPromptContinuesFromBosAsTheModelReadmeShows) {
  // The model README's reference: greedy, BOS only, 32 new tokens, ids 403 ... 385. Those ids spell the
  // text up to " One" (" g" "ir" "l" and " p" "ar" "k" are three tokens each); the README's text line
  // adds a " day" that its 32 ids do not contain.
  auto j = completion({{"prompt", ""}, {"max_tokens", 32}, {"temperature", 0}});
  EXPECT_EQ(
      j["choices"][0]["text"],
      " Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One");
  expect_usage(j, 1, 32);
}

TEST_F(ServerCompletions, RepeatedAndExtendedPromptsReuseTheCacheCorrectly) {
  // A slot keeps its tokens; the next request reuses the longest cached prefix,
  // also when that prefix is the whole prompt (the last token is then recomputed
  // to get its logits).
  const std::string first =
      completion({{"prompt", kPrompt}, {"max_tokens", 12}, {"temperature", 0}})["choices"][0]["text"];
  for (int i = 0; i < 2; ++i) {
    auto again = completion({{"prompt", kPrompt}, {"max_tokens", 12}, {"temperature", 0}});
    EXPECT_EQ(again["choices"][0]["text"], first) << "repeat " << i;
  }
  const std::string longer = kPrompt + first;
  auto ext = completion({{"prompt", longer}, {"max_tokens", 12}, {"temperature", 0}});
  EXPECT_EQ(ext["choices"][0]["text"], cli_greedy(model(), longer, 12));
  const std::string shorter = "Once upon";
  auto cut = completion({{"prompt", shorter}, {"max_tokens", 12}, {"temperature", 0}});
  EXPECT_EQ(cut["choices"][0]["text"], cli_greedy(model(), shorter, 12));
}

TEST_F(ServerCompletions, APromptThatNearlyFillsTheContextStopsWithLength) {
  std::string words;
  for (int i = 0; i < 505; ++i) words += i ? " the" : "the";  // 506 tokens with BOS
  auto j = completion({{"prompt", words}, {"max_tokens", 50}, {"temperature", 0}});
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["prompt_tokens"], 506);
  const int n = j["usage"]["completion_tokens"];
  // 512 cells per sequence leave room for 6 tokens; a unified 2048-cell cache for all 50.
  EXPECT_TRUE(n == 50 || (n >= 5 && n <= 6)) << j["usage"].dump();
  EXPECT_EQ(j["choices"][0]["text"], cli_greedy(model(), words, n));
}

}  // namespace
