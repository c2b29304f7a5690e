// The response cache over real HTTP: a repeated deterministic request is a
// hit whose whole answer (text, log-probabilities with alternatives, finish
// reason, token counts; streamed or not) equals a fresh generation's, only
// deterministic requests are kept, opting out works, and the counts move.
// The server runs on its own temp database, never $RMM_HOME's.
#include <atomic>

#include "server_fixture.hpp"
#include "server_ws/ws_client.hpp"
#include "support/test_env.hpp"

using namespace rmm::test;
using nlohmann::json;

namespace {

class ResponseCacheServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = shared_model(kModelFile);
    if (model_.empty()) return;
    try {
      server_ = start({});
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override {
    if (model_.empty()) GTEST_SKIP() << "shared model " << kModelFile << " is absent";
    ASSERT_TRUE(server_) << error_;
    ASSERT_TRUE(server_->running()) << server_->output();
  }

  static std::unique_ptr<ServerProcess> start(std::vector<std::string> extra) {
    const auto db = temp_dir("response-cache-db") / "rmm.db";
    extra.insert(extra.end(), {"--parallel", "2", "--ctx-size", "1024", "--database", db.string()});
    auto s = std::make_unique<ServerProcess>(serve_args(model_, extra));
    // Requests bypass the cache until the model file is hashed (milliseconds for this one; the
    // registry's hasher takes it first, before any other files in the models dir).
    if (std::find(extra.begin(), extra.end(), "--no-cache") == extra.end() &&
        !s->wait_for_output(std::string(kModelFile) + " hashed in", std::chrono::seconds(20)))
      throw std::runtime_error("the model was not hashed:\n" + s->output());
    return s;
  }

  // A prompt no other test uses, so that tests do not share entries.
  static std::string fresh_prompt() {
    static std::atomic<int> n{0};
    const char* starts[] = {"Once upon a time", "The little dog", "One day, Lily",     "Tom had a red ball",
                            "The sun was",      "A big cat",      "Sam and Mia",       "In the park",
                            "The bird sang",    "Mom said",       "The tree was tall", "Ben liked to"};
    return starts[n++ % 12];
  }

  static HttpResponse post(const std::string& target, json body, const Headers& extra = {}) {
    if (!body.contains("model")) body["model"] = kModelId;
    Headers h{{"Content-Type", "application/json"}};
    h.insert(h.end(), extra.begin(), extra.end());
    return http_request(server_->port(), "POST", target, body.dump(), h);
  }
  static json stats() { return http_get(server_->port(), "/api/cache/stats").json(); }

  static std::unique_ptr<ServerProcess> server_;
  static std::string error_;
  static std::filesystem::path model_;
};

std::unique_ptr<ServerProcess> ResponseCacheServer::server_;
std::string ResponseCacheServer::error_;
std::filesystem::path ResponseCacheServer::model_;

// The answer without what differs between any two responses: ids, creation
// time and cached_tokens (a replayed prompt counts as all cached).
json comparable(json j) {
  j.erase("id");
  j.erase("created");
  if (j.contains("usage") && j["usage"].is_object()) j["usage"].erase("prompt_tokens_details");
  return j;
}

// Equal, but floats (log-probabilities) only within `tol`: a fresh generation
// may compute them in another batch layout (a reused prompt prefix), which
// moves the last bits. A replay is compared exactly.
void expect_near(const json& a, const json& b, const std::string& where = "$") {
  constexpr double tol = 1e-3;  // as in test_logprobs.cpp
  if (a.is_number_float() || b.is_number_float()) {
    ASSERT_TRUE(a.is_number() && b.is_number()) << where << ": " << a << " vs " << b;
    EXPECT_NEAR(a.get<double>(), b.get<double>(), tol) << where;
  } else if (a.is_object() && b.is_object()) {
    ASSERT_EQ(a.size(), b.size()) << where << ": " << a << " vs " << b;
    for (const auto& [k, v] : a.items()) {
      ASSERT_TRUE(b.contains(k)) << where << "." << k;
      expect_near(v, b[k], where + "." + k);
    }
  } else if (a.is_array() && b.is_array()) {
    ASSERT_EQ(a.size(), b.size()) << where;
    for (size_t i = 0; i < a.size(); ++i) expect_near(a[i], b[i], where + "[" + std::to_string(i) + "]");
  } else {
    EXPECT_EQ(a, b) << where;
  }
}

std::vector<json> comparable_stream(SseStream& s) {
  std::vector<json> out;
  for (auto& c : read_sse_payloads(s)) out.push_back(comparable(c));
  return out;
}

json chat_body(const std::string& text, json extra = json::object()) {
  json b = {{"messages", {{{"role", "user"}, {"content", text}}}},
            {"max_tokens", 24},
            {"temperature", 0},
            {"logprobs", true},
            {"top_logprobs", 3}};
  b.update(extra);
  return b;
}

json completion_body(const std::string& text, json extra = json::object()) {
  json b = {{"prompt", text}, {"max_tokens", 24}, {"temperature", 0}, {"logprobs", 3}};
  b.update(extra);
  return b;
}

TEST_F(ResponseCacheServer, RepeatedChatIsAHitEqualToTheFirstAnswer) {
  const auto body = chat_body(fresh_prompt());
  const auto before = stats();
  const auto a = post("/v1/chat/completions", body);
  const auto b = post("/v1/chat/completions", body);
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(a.header("X-RMM-Cache"), "miss");
  EXPECT_EQ(b.header("X-RMM-Cache"), "hit");
  const json ja = a.json(), jb = b.json();
  EXPECT_NE(ja["id"], jb["id"]) << "a hit is a new response";
  EXPECT_EQ(comparable(jb), comparable(ja));
  // Not vacuous: text, 24 tokens each with 3 alternatives, counts.
  EXPECT_FALSE(ja["choices"][0]["message"]["content"].get<std::string>().empty());
  EXPECT_EQ(ja["choices"][0]["logprobs"]["content"].size(), 24u);
  EXPECT_EQ(ja["choices"][0]["logprobs"]["content"][0]["top_logprobs"].size(), 3u);
  EXPECT_EQ(jb["usage"]["completion_tokens"], 24);
  EXPECT_EQ(jb["usage"]["prompt_tokens_details"]["cached_tokens"], jb["usage"]["prompt_tokens"]);
  const auto after = stats();
  EXPECT_EQ(after["hits"].get<int>() - before["hits"].get<int>(), 1) << after;
  EXPECT_EQ(after["misses"].get<int>() - before["misses"].get<int>(), 1) << after;
  EXPECT_GT(after["bytes"].get<int64_t>(), 0);
}

TEST_F(ResponseCacheServer, RepeatedCompletionIsAHitEqualToTheFirstAnswer) {
  const auto body = completion_body(fresh_prompt(), {{"stop", {"."}}, {"max_tokens", 40}});
  const auto a = post("/v1/completions", body);
  const auto b = post("/v1/completions", body);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.header("X-RMM-Cache"), "miss");
  EXPECT_EQ(b.header("X-RMM-Cache"), "hit");
  EXPECT_EQ(comparable(b.json()), comparable(a.json()));
  EXPECT_EQ(a.json()["choices"][0]["logprobs"]["top_logprobs"][0].size(), 3u);
}

TEST_F(ResponseCacheServer, StreamedHitsEqualFreshStreams) {
  for (const bool chat : {true, false}) {
    SCOPED_TRACE(chat ? "chat" : "completions");
    const std::string target = chat ? "/v1/chat/completions" : "/v1/completions";
    json body = chat ? chat_body(fresh_prompt()) : completion_body(fresh_prompt());
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
    body["model"] = kModelId;
    SseStream first(server_->port(), target, body);
    EXPECT_EQ(first.head().header("X-RMM-Cache"), "miss");
    const auto a = comparable_stream(first);
    SseStream second(server_->port(), target, body);
    EXPECT_EQ(second.head().header("X-RMM-Cache"), "hit");
    const auto b = comparable_stream(second);
    EXPECT_EQ(b, a);
    EXPECT_GE(a.size(), 10u) << "tokens, the finish chunk and the usage chunk";
    // And a fresh generation (kept out of the cache) streams the same chunks.
    body["cache"] = false;
    SseStream fresh(server_->port(), target, body);
    EXPECT_EQ(fresh.head().header("X-RMM-Cache"), "bypass");
    expect_near(json(comparable_stream(fresh)), json(a));
  }
}

TEST_F(ResponseCacheServer, AnAnswerRecordedUnstreamedStreamsLikeAFreshStream) {
  json body = chat_body(fresh_prompt());
  ASSERT_EQ(post("/v1/chat/completions", body).header("X-RMM-Cache"), "miss");
  body["stream"] = true;
  body["model"] = kModelId;
  SseStream hit(server_->port(), "/v1/chat/completions", body);
  EXPECT_EQ(hit.head().header("X-RMM-Cache"), "hit");
  const auto replayed = comparable_stream(hit);
  body["cache"] = false;
  SseStream fresh(server_->port(), "/v1/chat/completions", body);
  expect_near(json(comparable_stream(fresh)), json(replayed));
}

TEST_F(ResponseCacheServer, OnlyDeterministicRequestsAreCached) {
  const std::string prompt = fresh_prompt();
  // A fixed seed makes sampling repeatable: cached.
  const auto seeded = completion_body(prompt, {{"temperature", 0.8}, {"seed", 1234}});
  const auto a = post("/v1/completions", seeded);
  const auto b = post("/v1/completions", seeded);
  EXPECT_EQ(a.header("X-RMM-Cache"), "miss");
  EXPECT_EQ(b.header("X-RMM-Cache"), "hit");
  EXPECT_EQ(comparable(b.json()), comparable(a.json()));
  // Without a seed it is not.
  const auto before = stats();
  const auto random = completion_body(prompt, {{"temperature", 0.8}});
  for (int i = 0; i < 2; ++i) EXPECT_EQ(post("/v1/completions", random).header("X-RMM-Cache"), "bypass");
  const auto after = stats();
  EXPECT_EQ(after["bypass_reasons"]["not_deterministic"].get<int>() -
                before["bypass_reasons"]["not_deterministic"].get<int>(),
            2);
  EXPECT_EQ(after["hits"], before["hits"]);
  EXPECT_EQ(after["misses"], before["misses"]);
  EXPECT_EQ(after["stored"], before["stored"]);
}

TEST_F(ResponseCacheServer, AnyParameterChangeIsAMiss) {
  const std::string prompt = fresh_prompt();
  ASSERT_EQ(post("/v1/completions", completion_body(prompt)).header("X-RMM-Cache"), "miss");
  for (const json& change : {json{{"max_tokens", 23}}, json{{"logprobs", 2}}, json{{"stop", {"zzz"}}},
                             json{{"presence_penalty", 0.5}}, json{{"prompt", prompt + " "}}}) {
    EXPECT_EQ(post("/v1/completions", completion_body(prompt, change)).header("X-RMM-Cache"), "miss")
        << change;
  }
  EXPECT_EQ(post("/v1/completions", completion_body(prompt)).header("X-RMM-Cache"), "hit");
}

TEST_F(ResponseCacheServer, OptingOut) {
  const std::string prompt = fresh_prompt();
  const auto before = stats();
  // "cache": false and Cache-Control: no-store: neither read nor kept.
  EXPECT_EQ(post("/v1/completions", completion_body(prompt, {{"cache", false}})).header("X-RMM-Cache"),
            "bypass");
  EXPECT_EQ(
      post("/v1/completions", completion_body(prompt), {{"Cache-Control", "no-store"}}).header("X-RMM-Cache"),
      "bypass");
  EXPECT_EQ(stats()["stored"], before["stored"]);
  // no-cache: answered afresh, but kept.
  EXPECT_EQ(post("/v1/completions", completion_body(prompt), {{"Cache-Control", "max-age=0, No-Cache"}})
                .header("X-RMM-Cache"),
            "bypass");
  EXPECT_EQ(post("/v1/completions", completion_body(prompt)).header("X-RMM-Cache"), "hit");
  // A hit is not forced on a client that asks for a fresh answer.
  EXPECT_EQ(post("/v1/completions", completion_body(prompt, {{"cache", false}})).header("X-RMM-Cache"),
            "bypass");
  const auto after = stats();
  EXPECT_EQ(
      after["bypass_reasons"]["opted_out"].get<int>() - before["bypass_reasons"]["opted_out"].get<int>(), 4);
  EXPECT_EQ(after["hits"].get<int>() - before["hits"].get<int>(), 1);

  const auto bad = post("/v1/completions", completion_body(prompt, {{"cache", "no"}}));
  expect_openai_error(bad, 400);
  EXPECT_TRUE(error_names(bad, "cache")) << bad.body;
}

TEST_F(ResponseCacheServer, StatsEverywhereAndClearing) {
  const auto s = stats();
  for (const char* k : {"enabled", "hits", "misses", "bypasses", "bytes", "stored", "ttl_ms", "max_bytes"})
    EXPECT_TRUE(s.contains(k)) << k << " in " << s;
  EXPECT_EQ(s["enabled"], true);
  EXPECT_EQ(s["ttl_ms"], 24LL * 3600 * 1000);
  EXPECT_EQ(s["max_bytes"], 256LL * 1024 * 1024);
  const auto info = http_get(server_->port(), "/api/system/info").json();
  ASSERT_TRUE(info.contains("cache")) << info;
  EXPECT_EQ(info["cache"]["enabled"], true);

  const auto body = completion_body(fresh_prompt());
  post("/v1/completions", body);
  EXPECT_EQ(post("/v1/completions", body).header("X-RMM-Cache"), "hit");
  const auto cleared = http_request(server_->port(), "DELETE", "/api/cache");
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_EQ(cleared.json()["bytes"], 0);
  EXPECT_EQ(post("/v1/completions", body).header("X-RMM-Cache"), "miss");
}

TEST_F(ResponseCacheServer, FlagsTurnItOffOrBoundIt) {
  auto off = start({"--no-cache"});
  const auto body = completion_body("Once upon a time");
  for (int i = 0; i < 2; ++i) {
    HttpResponse r = http_request(off->port(), "POST", "/v1/completions", json(body).dump(),
                                  {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.header("X-RMM-Cache"), "bypass");
  }
  const auto s = http_get(off->port(), "/api/cache/stats").json();
  EXPECT_EQ(s["enabled"], false);
  EXPECT_EQ(s["bypass_reasons"]["disabled"], 2);

  auto bounded = start({"--cache-ttl", "90m", "--cache-size", "1MiB"});
  const auto b = http_get(bounded->port(), "/api/cache/stats").json();
  EXPECT_EQ(b["ttl_ms"], 90LL * 60 * 1000);
  EXPECT_EQ(b["max_bytes"], 1024 * 1024);
}

TEST_F(ResponseCacheServer, WebSocketGenerationsUseTheCacheToo) {
  WsClient ws("127.0.0.1", server_->port());
  const json gen = {{"type", "generate"},
                    {"prompt", fresh_prompt()},
                    {"params", {{"temperature", 0}, {"max_tokens", 12}}},
                    {"alternatives", 2}};
  // The token messages without their timing.
  auto run = [&](const std::string& id, json extra) {
    json msg = gen;
    msg["id"] = id;
    msg.update(extra);
    ws.send(msg);
    auto all =
        ws.until([&](const json& m) { return m.value("type", "") == "complete" && m.value("id", "") == id; });
    std::vector<json> tokens;
    for (auto t : of_type(all, "token", id)) {
      t.erase("t_ms");
      tokens.push_back(t);
    }
    EXPECT_EQ(all.back()["finish_reason"], "length");
    return tokens;
  };
  const auto before = stats();
  const auto a = run("a", json::object());
  const auto mid = stats();
  EXPECT_EQ(mid["misses"].get<int>() - before["misses"].get<int>(), 1) << mid;
  const auto b = run("b", json::object());
  auto after = stats();
  EXPECT_EQ(after["hits"].get<int>() - mid["hits"].get<int>(), 1) << after;
  ASSERT_EQ(a.size(), 12u);
  for (size_t i = 0; i < a.size(); ++i) {
    json x = a[i], y = b[i];
    x.erase("id");
    y.erase("id");
    EXPECT_EQ(y, x) << i;
  }
  run("c", {{"cache", false}});
  const auto opted = stats();
  EXPECT_EQ(opted["bypass_reasons"]["opted_out"].get<int>() - after["bypass_reasons"]["opted_out"].get<int>(),
            1);
  EXPECT_EQ(opted["hits"], after["hits"]);
}

}  // namespace
