// Log-probabilities in OpenAI's two shapes, checked against `rmm run --json`
// (same distribution: the model's raw softmax) and against greedy decoding
// (the chosen token is the most likely one); rmm's extensions beside them
// (entropy, token ids) and continuing an answer from its token ids.
#include <cmath>
#include <sstream>

#include "core/subprocess.hpp"
#include "server_fixture.hpp"
#include "support/test_env.hpp"

using namespace rmm::test;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

class ServerLogprobs : public ServerSuite {};

const std::string kPrompt = "Once upon a time";
constexpr double kTol = 1e-3;  // batch composition may change the last float bits

struct CliToken {
  std::string text;
  double logprob;
  std::vector<std::pair<std::string, double>> top;
};

// `rmm run --json --top-logprobs K`: one object per token.
std::vector<CliToken> cli_tokens(const std::filesystem::path& model, const std::string& prompt, int n,
                                 int k) {
  auto r =
      rmm::run_process({rmm_binary().string(), "run", model.string(), prompt, "--raw", "-t", "1", "--temp",
                        "0", "-n", std::to_string(n), "--json", "--top-logprobs", std::to_string(k)});
  if (r.exit_code != 0) throw std::runtime_error("rmm run --json failed: " + r.err);
  std::vector<CliToken> out;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    auto j = json::parse(line);
    if (j.contains("done")) break;
    CliToken t{j["text"], j["logprob"], {}};
    for (const auto& a : j["alternatives"]) t.top.emplace_back(a["text"], a["logprob"]);
    out.push_back(t);
  }
  return out;
}

std::vector<int> utf8_bytes(const std::string& s) {
  std::vector<int> b;
  for (unsigned char c : s) b.push_back(c);
  return b;
}

TEST_F(ServerLogprobs, ChatShapeAndValues) {
  const int n = 10, k = 3;
  auto j = chat({{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                 {"max_tokens", n},
                 {"temperature", 0},
                 {"logprobs", true},
                 {"top_logprobs", k}});
  const auto& choice = j["choices"][0];
  ASSERT_TRUE(choice.at("logprobs").is_object()) << j.dump();
  const auto& content = choice["logprobs"].at("content");
  ASSERT_EQ(content.size(), static_cast<size_t>(n)) << j.dump();
  const auto cli = cli_tokens(model(), chatml_user("Hi"), n, k);
  ASSERT_EQ(cli.size(), static_cast<size_t>(n));
  std::string joined;
  for (int i = 0; i < n; ++i) {
    SCOPED_TRACE("token " + std::to_string(i));
    const auto& t = content[i];
    const std::string token = t.at("token");
    joined += token;
    EXPECT_EQ(token, cli[i].text);
    EXPECT_NEAR(t.at("logprob").get<double>(), cli[i].logprob, kTol);
    EXPECT_LE(t["logprob"].get<double>(), 0.0);
    EXPECT_EQ(t.at("bytes").get<std::vector<int>>(), utf8_bytes(token));
    const auto& top = t.at("top_logprobs");
    ASSERT_EQ(top.size(), static_cast<size_t>(k)) << t.dump();
    for (int a = 0; a < k; ++a) {
      EXPECT_EQ(top[a].at("token"), cli[i].top[a].first);
      EXPECT_NEAR(top[a].at("logprob").get<double>(), cli[i].top[a].second, kTol);
      EXPECT_EQ(top[a].at("bytes").get<std::vector<int>>(), utf8_bytes(top[a]["token"]));
      if (a > 0) {
        EXPECT_GE(top[a - 1]["logprob"].get<double>(), top[a]["logprob"].get<double>())
            << "sorted, best first";
      }
    }
    // Greedy: the chosen token is the most likely one.
    EXPECT_EQ(top[0]["token"], token);
    EXPECT_DOUBLE_EQ(top[0]["logprob"].get<double>(), t["logprob"].get<double>());
  }
  EXPECT_EQ(joined, choice["message"]["content"]);
}

TEST_F(ServerLogprobs, ChatLogprobsWithoutAlternatives) {
  auto j = chat({{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                 {"max_tokens", 4},
                 {"temperature", 0},
                 {"logprobs", true}});
  const auto& content = j["choices"][0]["logprobs"].at("content");
  ASSERT_EQ(content.size(), 4u) << j.dump();
  for (const auto& t : content) {
    EXPECT_TRUE(t.at("logprob").is_number());
    EXPECT_TRUE(t.at("top_logprobs").is_array() && t["top_logprobs"].empty()) << t.dump();
  }
  // Not asked: null.
  auto none =
      chat({{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 2}, {"logprobs", false}});
  EXPECT_TRUE(none["choices"][0]["logprobs"].is_null()) << none.dump();
}

TEST_F(ServerLogprobs, CompletionsShapeAndValues) {
  const int n = 10, k = 3;
  auto r = http_post_json(
      port(), "/v1/completions",
      {{"model", kModelId}, {"prompt", kPrompt}, {"max_tokens", n}, {"temperature", 0}, {"logprobs", k}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = ordered_json::parse(r.body);  // keeps the order of each top_logprobs object
  const auto& choice = j["choices"][0];
  const auto& lp = choice.at("logprobs");
  ASSERT_TRUE(lp.is_object()) << r.body;
  const auto& tokens = lp.at("tokens");
  const auto& token_logprobs = lp.at("token_logprobs");
  const auto& top = lp.at("top_logprobs");
  const auto& offsets = lp.at("text_offset");
  ASSERT_EQ(tokens.size(), static_cast<size_t>(n));
  ASSERT_EQ(token_logprobs.size(), static_cast<size_t>(n));
  ASSERT_EQ(top.size(), static_cast<size_t>(n));
  ASSERT_EQ(offsets.size(), static_cast<size_t>(n));
  const auto cli = cli_tokens(model(), kPrompt, n, k);
  std::string joined;
  for (int i = 0; i < n; ++i) {
    SCOPED_TRACE("token " + std::to_string(i));
    const std::string token = tokens[i];
    EXPECT_EQ(token, cli[i].text);
    EXPECT_NEAR(token_logprobs[i].get<double>(), cli[i].logprob, kTol);
    ASSERT_TRUE(top[i].is_object()) << top[i].dump();
    ASSERT_EQ(top[i].size(), static_cast<size_t>(k)) << top[i].dump();
    // Every alternative of the CLI, by key; greedy: the chosen token is the most likely one.
    for (const auto& [alt, logprob] : cli[i].top) {
      ASSERT_TRUE(top[i].contains(alt)) << "missing alternative '" << alt << "': " << top[i].dump();
      EXPECT_NEAR(top[i][alt].get<double>(), logprob, kTol) << alt;
    }
    EXPECT_EQ(cli[i].top[0].first, token);
    EXPECT_DOUBLE_EQ(top[i][token].get<double>(), token_logprobs[i].get<double>());
    // Offsets advance by each token's length; OpenAI counts from the start of the prompt.
    if (i > 0) {
      EXPECT_EQ(offsets[i].get<size_t>(),
                offsets[i - 1].get<size_t>() + tokens[i - 1].get<std::string>().size());
    }
    joined += token;
  }
  EXPECT_TRUE(offsets[0] == 0 || offsets[0] == kPrompt.size()) << offsets.dump();
  EXPECT_EQ(joined, choice["text"]);
}

TEST_F(ServerLogprobs, CompletionsTopLogprobsObjectsListTheBestFirst) {
  // JSON objects are ordered text: OpenAI writes each top_logprobs object best
  // first, and clients (Python dicts, JS objects) keep that order.
  auto r = http_post_json(
      port(), "/v1/completions",
      {{"model", kModelId}, {"prompt", kPrompt}, {"max_tokens", 4}, {"temperature", 0}, {"logprobs", 5}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = ordered_json::parse(r.body);
  for (const auto& top : j["choices"][0]["logprobs"]["top_logprobs"]) {
    double prev = 1.0;
    for (const auto& [alt, logprob] : top.items()) {
      EXPECT_LE(logprob.get<double>(), prev) << "not best first: " << top.dump();
      prev = logprob.get<double>();
    }
  }
}

TEST_F(ServerLogprobs, StreamedChatLogprobsEqualTheNonStreamedOnes) {
  json body = {{"model", kModelId}, {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
               {"max_tokens", 8},   {"temperature", 0},
               {"logprobs", true},  {"top_logprobs", 2}};
  const auto plain = chat(body)["choices"][0]["logprobs"]["content"];
  body["stream"] = true;
  SseStream s(port(), "/v1/chat/completions", body);
  ASSERT_EQ(s.head().status, 200);
  json streamed = json::array();
  for (const auto& chunk : read_sse_payloads(s)) {
    for (const auto& c : chunk["choices"]) {
      if (c.contains("logprobs") && c["logprobs"].is_object()) {
        for (const auto& t : c["logprobs"]["content"]) streamed.push_back(t);
      }
    }
  }
  ASSERT_EQ(streamed.size(), plain.size()) << streamed.dump();
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(streamed[i]["token"], plain[i]["token"]);
    EXPECT_NEAR(streamed[i]["logprob"].get<double>(), plain[i]["logprob"].get<double>(), kTol);
    EXPECT_EQ(streamed[i]["top_logprobs"].size(), 2u);
  }
}

// rmm's extensions in the chat shape: each token's entropy (nats, whole vocabulary) and token ids.
TEST_F(ServerLogprobs, EntropyAndTokenIdsInEveryTokenStreamedAndNot) {
  json body = {{"model", kModelId}, {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
               {"max_tokens", 6},   {"temperature", 0},
               {"logprobs", true},  {"top_logprobs", 2}};
  const auto plain = chat(body)["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(plain.size(), 6u);
  const double max_entropy = std::log(512.0);  // stories260K's vocabulary
  for (const auto& t : plain) {
    ASSERT_TRUE(t.contains("entropy")) << t.dump();
    EXPECT_GT(t["entropy"].get<double>(), 0.0);
    EXPECT_LE(t["entropy"].get<double>(), max_entropy + 1e-4);
    // The chosen token leads the greedy alternatives, by id too.
    EXPECT_EQ(t.at("token_id"), t["top_logprobs"][0].at("token_id")) << t.dump();
  }
  body["stream"] = true;
  SseStream s(port(), "/v1/chat/completions", body);
  ASSERT_EQ(s.head().status, 200);
  json streamed = json::array();
  for (const auto& chunk : read_sse_payloads(s)) {
    for (const auto& c : chunk["choices"]) {
      if (c.contains("logprobs") && c["logprobs"].is_object()) {
        for (const auto& t : c["logprobs"]["content"]) streamed.push_back(t);
      }
    }
  }
  ASSERT_EQ(streamed.size(), plain.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(streamed[i]["token_id"], plain[i]["token_id"]);
    EXPECT_NEAR(streamed[i].at("entropy").get<double>(), plain[i]["entropy"].get<double>(), kTol);
  }
  // Text completions carry them beside the other lists.
  auto r = http_post_json(
      port(), "/v1/completions",
      {{"model", kModelId}, {"prompt", kPrompt}, {"max_tokens", 4}, {"temperature", 0}, {"logprobs", 1}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto entropies = r.json()["choices"][0]["logprobs"].at("token_entropies");
  ASSERT_EQ(entropies.size(), 4u);
  for (const auto& e : entropies) EXPECT_GT(e.get<double>(), 0.0);
  // Not asked: not computed, not sent.
  auto none = chat({{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 2}});
  EXPECT_EQ(none.dump().find("entropy"), std::string::npos) << none.dump();
}

namespace {

std::vector<int> ids_of(const json& content) {
  std::vector<int> ids;
  for (const auto& t : content) ids.push_back(t.at("token_id").get<int>());
  return ids;
}

}  // namespace

// The key property: greedy from the model's own first k tokens gives back the rest, token for token.
TEST_F(ServerLogprobs, ContinueFromTheModelsOwnTokensReproducesTheAnswer) {
  const int n = 24, k = 10;
  const json messages = {{{"role", "user"}, {"content", "Tell me a story"}}};
  const auto original = chat({{"messages", messages},
                              {"max_tokens", n},
                              {"temperature", 0},
                              {"logprobs", true},
                              {"top_logprobs", 2},
                              {"cache", false}});
  const auto content = original["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), static_cast<size_t>(n)) << original.dump();
  const auto ids = ids_of(content);
  const std::vector<int> prefix(ids.begin(), ids.begin() + k);

  json body = {{"messages", messages},
               {"max_tokens", n - k},
               {"temperature", 0},
               {"logprobs", true},
               {"continue_from", {{"tokens", prefix}}}};
  const auto cont = chat(body);
  const auto& choice = cont["choices"][0];
  EXPECT_EQ(ids_of(choice["logprobs"]["content"]), std::vector<int>(ids.begin() + k, ids.end()));
  // The content is the whole answer; usage counts the new tokens as completion.
  EXPECT_EQ(choice["message"]["content"], original["choices"][0]["message"]["content"]);
  EXPECT_EQ(choice["finish_reason"], "length");
  EXPECT_EQ(cont["usage"]["completion_tokens"], n - k);
  EXPECT_EQ(cont["usage"]["prompt_tokens"], original["usage"]["prompt_tokens"].get<int>() + k);

  // Streamed: the prefix's text comes first, then one delta per new token; they join to the answer.
  body["stream"] = true;
  body["model"] = kModelId;
  SseStream s(port(), "/v1/chat/completions", body);
  ASSERT_EQ(s.head().status, 200);
  std::string joined;
  std::vector<int> streamed_ids;
  bool first = true;
  for (const auto& chunk : read_sse_payloads(s)) {
    for (const auto& c : chunk["choices"]) {
      if (c["delta"].contains("content")) {
        if (first) {
          EXPECT_TRUE(c["logprobs"].is_null()) << "the prefix has no token events: " << c.dump();
          EXPECT_FALSE(c["delta"]["content"].get<std::string>().empty());
          first = false;
        }
        joined += c["delta"]["content"].get<std::string>();
      }
      if (c["logprobs"].is_object()) {
        for (const auto& t : c["logprobs"]["content"]) streamed_ids.push_back(t["token_id"].get<int>());
      }
    }
  }
  EXPECT_EQ(joined, original["choices"][0]["message"]["content"].get<std::string>());
  EXPECT_EQ(streamed_ids, std::vector<int>(ids.begin() + k, ids.end()));
}

// Forking from an alternative: the prefix is kept, generation goes on, and the response cache
// does not hand back the answer it holds for the same messages without that prefix.
TEST_F(ServerLogprobs, ContinueFromAnAlternativeKeepsThePrefix) {
  const int n = 16, k = 6;
  const json messages = {{{"role", "user"}, {"content", "Once upon a time"}}};
  const json plain = {
      {"messages", messages}, {"max_tokens", n}, {"temperature", 0}, {"logprobs", true}, {"top_logprobs", 2}};
  const auto original = chat(plain);
  chat(plain);  // now certainly in the cache
  const auto content = original["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), static_cast<size_t>(n));
  std::vector<int> prefix;
  std::string prefix_text;
  for (int i = 0; i < k; ++i) {
    prefix.push_back(content[i]["token_id"].get<int>());
    prefix_text += content[i]["token"].get<std::string>();
  }
  const auto& alt = content[k]["top_logprobs"][1];
  ASSERT_NE(alt["token_id"], content[k]["token_id"]);
  prefix.push_back(alt["token_id"].get<int>());
  prefix_text += alt["token"].get<std::string>();

  json body = plain;
  body["model"] = kModelId;
  body["max_tokens"] = 6;
  body["continue_from"] = {{"tokens", prefix}};
  auto r = http_post_json(port(), "/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.header("X-RMM-Cache"), "hit");
  const auto j = r.json();
  const std::string answer = j["choices"][0]["message"]["content"];
  EXPECT_EQ(answer.substr(0, prefix_text.size()), prefix_text) << answer;
  EXPECT_GT(answer.size(), prefix_text.size());
  EXPECT_NE(answer, original["choices"][0]["message"]["content"].get<std::string>());
}

TEST_F(ServerLogprobs, ContinueFromOutsideTheVocabularyOrTheContextIs400) {
  json body = {{"model", kModelId},
               {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
               {"max_tokens", 2},
               {"continue_from", {{"tokens", {400, 512}}}}};
  auto r = http_post_json(port(), "/v1/chat/completions", body);
  expect_openai_error(r, 400);
  EXPECT_EQ(r.json()["error"]["param"], "continue_from.tokens[1]") << r.body;
  EXPECT_NE(r.body.find("512 tokens"), std::string::npos) << r.body;
  body["continue_from"] = {{"tokens", {1.5}}};
  r = http_post_json(port(), "/v1/chat/completions", body);
  expect_openai_error(r, 400);
  EXPECT_EQ(r.json()["error"]["param"], "continue_from.tokens[0]") << r.body;
  body["continue_from"] = {{"tokens", std::vector<int>(4096, 400)}};  // past the 2048 / 4 slots' context
  r = http_post_json(port(), "/v1/chat/completions", body);
  expect_openai_error(r, 400);
  EXPECT_NE(r.body.find("continue_from"), std::string::npos) << r.body;
}

}  // namespace
