// The server's guards seen from outside, over real HTTP and WebSocket on
// loopback: model paths, requests a foreign page could send, DNS rebinding,
// API keys and scopes, rate limits, connection limits and timeouts, and the
// audit log. Every refusal is checked for its status and for leaving the
// server's state as it was.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "../server_ws/ws_client.hpp"
#include "core/subprocess.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

namespace rmm::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const char* kSmall = "stories260K";
const char* kOther = "TinyStories-656K-Q8_0";

// A server over a models dir of its own (links to the shared models) and a fresh database.
class Security : public ::testing::Test {
 protected:
  void SetUp() override {
    if (shared_model("stories260K.gguf").empty() || shared_model("TinyStories-656K-Q8_0.gguf").empty())
      GTEST_SKIP() << "shared models absent in " << shared_models_dir();
    dir_ = temp_dir("security");
    models_ = dir_ / "models";
    fs::create_directories(models_);
    fs::create_symlink(shared_model("stories260K.gguf"), models_ / "stories260K.gguf");
    fs::copy_file(shared_model("TinyStories-656K-Q8_0.gguf"), models_ / "TinyStories-656K-Q8_0.gguf");
    db_ = (dir_ / "rmm.db").string();
  }
  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "server output:\n" << server_->output() << "\n";
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--host",     "127.0.0.1",    "--port",         "0",          "-t",
                                     "1",          "--models-dir", models_.string(), "--parallel", "2",
                                     "--ctx-size", "1024",         "--no-cache",     "--database", db_};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(args);
  }
  int port() const { return server_->port(); }
  // `rmm keys create NAME ARGS...` on the server's database; returns the key.
  std::string create_key(const std::string& name, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {rmm_binary().string(), "keys", "create", name, "--database", db_};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run_process(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string key = r.out;
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    EXPECT_EQ(key.rfind("rmm-", 0), 0u) << key;
    return key;
  }
  HttpResponse call(const std::string& method, const std::string& target, const std::string& body,
                    Headers headers) {
    return http_request(port(), method, target, body, headers);
  }
  HttpResponse post(const std::string& target, const json& body, Headers headers = {}) {
    headers.emplace_back("Content-Type", "application/json");
    return call("POST", target, body.dump(), headers);
  }
  json loaded() { return http_get(port(), "/api/models/loaded").json(); }

  fs::path dir_, models_;
  std::string db_;
  std::unique_ptr<ServerProcess> server_;
};

Headers bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

json chat_body(const std::string& model) {
  return {{"model", model},
          {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
          {"max_tokens", 4},
          {"temperature", 0}};
}

// ---- model paths --------------------------------------------------------------

TEST_F(Security, PathsOutsideTheModelsFoldersAreRefusedAlikeWhetherTheyExistOrNot) {
  start();
  std::ofstream(dir_ / "secret.txt") << "root:x:0:0:the secret\n";
  const auto exists = post("/api/models/load", {{"model", (dir_ / "secret.txt").string()}});
  const auto missing = post("/api/models/load", {{"model", (dir_ / "no-such-file.gguf").string()}});
  EXPECT_EQ(exists.status, 403) << exists.body;
  EXPECT_EQ(missing.status, 403) << missing.body;
  EXPECT_EQ(exists.body, missing.body) << "the answer must not tell whether a file exists";
  EXPECT_EQ(exists.body.find("root"), std::string::npos) << exists.body;
  EXPECT_NE(exists.body.find("--allow-model-paths"), std::string::npos) << exists.body;
  // ".." out of the models dir and a symlink inside it that points outside are outside too.
  EXPECT_EQ(post("/api/models/load", {{"model", (models_ / ".." / "secret.txt").string()}}).status, 403);
  fs::create_symlink(dir_ / "secret.txt", models_ / "link.gguf");
  EXPECT_EQ(post("/api/models/load", {{"model", (models_ / "link.gguf").string()}}).status, 403);
  // Every other place a request names a model.
  EXPECT_EQ(post("/v1/chat/completions", chat_body("/etc/passwd")).status, 403);
  EXPECT_EQ(post("/v1/completions", {{"model", "/etc/passwd"}, {"prompt", "x"}}).status, 403);
  const json tmpl = {{"name", "T"}, {"blocks", {{{"type", "user"}, {"text", "hi"}}}}};
  const auto run =
      post("/api/prompts/run", {{"template", tmpl}, {"model", "/etc/passwd"}, {"stream", false}});
  EXPECT_EQ(run.status, 403) << run.body;
  WsClient ws("127.0.0.1", port());
  ws.send({{"type", "load"}, {"model", "/etc/passwd"}, {"id", "l"}});
  const json reply = ws.next();
  EXPECT_EQ(reply.value("type", ""), "error") << reply.dump();
  EXPECT_EQ(reply.dump().find("root"), std::string::npos);
  EXPECT_TRUE(loaded()["models"].empty()) << loaded().dump();
  // A path inside the models dir is fine, and so is a name.
  const auto inside =
      post("/api/models/load", {{"model", (models_ / "TinyStories-656K-Q8_0.gguf").string()}});
  EXPECT_EQ(inside.status, 200) << inside.body;
  EXPECT_EQ(post("/api/models/load", {{"model", kSmall}}).status, 200);
}

TEST_F(Security, AllowModelPathsAcceptsAnyPathButNeverEchoesAFile) {
  start({"--allow-model-paths"});
  std::ofstream(dir_ / "secret.txt") << "root:x:0:0:the secret\n";
  const auto r = post("/api/models/load", {{"model", (dir_ / "secret.txt").string()}});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("not a GGUF file"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("root"), std::string::npos) << r.body;
  EXPECT_EQ(post("/api/models/load", {{"model", shared_model("stories260K.gguf").string()}}).status, 200);
}

// ---- requests a foreign page can send without a preflight ---------------------

TEST_F(Security, AForeignPageCannotChangeState) {
  start({"--model", kSmall});
  ASSERT_EQ(loaded()["models"].size(), 1u);
  // The reported attack: a text/plain POST with no body from another origin.
  const auto r = call("POST", "/api/models/unload", "",
                      {{"Content-Type", "text/plain"}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(loaded()["models"].size(), 1u);
  // Every route that changes state, from a foreign origin even as JSON.
  const std::vector<std::pair<std::string, std::string>> routes = {{"POST", "/v1/chat/completions"},
                                                                   {"POST", "/v1/completions"},
                                                                   {"POST", "/api/models/load"},
                                                                   {"POST", "/api/models/unload"},
                                                                   {"POST", "/api/models/pin"},
                                                                   {"POST", "/api/models/pull"},
                                                                   {"DELETE", "/api/models/x"},
                                                                   {"DELETE", "/api/cache"},
                                                                   {"POST", "/api/chat/history"},
                                                                   {"PATCH", "/api/chat/history/x"},
                                                                   {"DELETE", "/api/chat/history/x"},
                                                                   {"POST", "/api/chat/history/x/messages"},
                                                                   {"POST", "/api/prompts/templates"},
                                                                   {"PUT", "/api/prompts/templates/x"},
                                                                   {"DELETE", "/api/prompts/templates/x"},
                                                                   {"POST", "/api/prompts/run"},
                                                                   {"POST", "/api/prompts/build"},
                                                                   {"POST", "/api/tokenize"},
                                                                   {"POST", "/api/keys"},
                                                                   {"DELETE", "/api/keys/x"}};
  for (const auto& [method, path] : routes) {
    const auto foreign =
        call(method, path, "{}", {{"Content-Type", "application/json"}, {"Origin", "https://evil.example"}});
    EXPECT_EQ(foreign.status, 403) << method << " " << path << ": " << foreign.body;
    if (method == "POST") {
      // No Origin (a form can omit it with a referrer policy), not JSON, no custom header: refused too.
      const auto simple = call(method, path, "a=1", {{"Content-Type", "application/x-www-form-urlencoded"}});
      EXPECT_EQ(simple.status, 415) << method << " " << path << ": " << simple.body;
    }
  }
  EXPECT_EQ(loaded()["models"].size(), 1u);
  // The same unload from this machine's page, as JSON, works; so does a custom header.
  const auto local = call("POST", "/api/models/unload", "",
                          {{"Content-Type", "application/json"}, {"Origin", "http://localhost:5173"}});
  EXPECT_EQ(local.status, 200) << local.body;
  ASSERT_EQ(post("/api/models/load", {{"model", kSmall}}).status, 200);
  EXPECT_EQ(call("POST", "/api/models/unload", "", {{"X-RMM-Request", "1"}}).status, 200);
}

// ---- DNS rebinding ------------------------------------------------------------

TEST_F(Security, ALoopbackServerAnswersOnlyToLoopbackHostNames) {
  start({"--allowed-host", "box.lan"});
  const std::string p = std::to_string(port());
  for (const std::string& host : std::vector<std::string>{"attacker.example", "attacker.example:" + p,
                                                          "10.0.0.1:" + p, "127.0.0.1.evil.com"}) {
    const auto r = call("GET", "/api/chat/history", "", {{"Host", host}});
    EXPECT_EQ(r.status, 403) << host << ": " << r.body;
  }
  for (const std::string& host : std::vector<std::string>{"localhost:" + p, "127.0.0.1:" + p, "[::1]:" + p,
                                                          "LOCALHOST", "box.lan:" + p}) {
    EXPECT_EQ(call("GET", "/api/chat/history", "", {{"Host", host}}).status, 200) << host;
  }
  // The WebSocket too.
  WsClient::Options bad;
  bad.headers = {{"Host", "attacker.example"}};
  EXPECT_THROW(WsClient("127.0.0.1", port(), bad), std::runtime_error);
  WsClient ok("127.0.0.1", port());
}

// ---- API keys -----------------------------------------------------------------

TEST_F(Security, KeysScopesAndModelPatterns) {
  const std::string admin = create_key("ops", {"--scope", "admin"});
  const std::string gen = create_key("app", {"--scope", "generate", "--models", "tinystories-*"});
  const std::string reader = create_key("dash", {"--scope", "read"});
  start({"--model", kOther});
  // No key, a wrong key, and a malformed header: 401 with a challenge; the health check stays open.
  for (const Headers& h : std::vector<Headers>{{}, bearer("rmm-wrong"), {{"Authorization", "Basic eDp5"}}}) {
    const auto r = call("GET", "/v1/models", "", h);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(r.header("WWW-Authenticate").rfind("Bearer", 0), 0u);
  }
  EXPECT_EQ(http_get(port(), "/health").status, 200);
  // Both header forms.
  EXPECT_EQ(call("GET", "/v1/models", "", bearer(reader)).status, 200);
  EXPECT_EQ(call("GET", "/v1/models", "", {{"x-api-key", reader}}).status, 200);
  // Scopes: read < generate < admin.
  EXPECT_EQ(post("/v1/chat/completions", chat_body(kOther), bearer(reader)).status, 403);
  EXPECT_EQ(post("/v1/chat/completions", chat_body(kOther), bearer(gen)).status, 200);
  EXPECT_EQ(post("/api/models/unload", json::object(), bearer(gen)).status, 403);
  EXPECT_EQ(call("GET", "/api/keys", "", bearer(gen)).status, 403);
  EXPECT_EQ(call("GET", "/api/keys", "", bearer(admin)).status, 200);
  // Model patterns: "tinystories-*" allows the 656K model (by its registry name), not stories260K.
  const auto denied = post("/v1/chat/completions", chat_body(kSmall), bearer(gen));
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_EQ(post("/api/models/load", {{"model", kSmall}}, bearer(admin)).status, 200);
  EXPECT_EQ(post("/v1/chat/completions", chat_body(kSmall), bearer(gen)).status, 403) << "loaded or not";
  EXPECT_EQ(post("/v1/chat/completions", chat_body(kSmall), bearer(admin)).status, 200);
  // Keys over the API: created keys work at once, revoked ones stop at once; the key is never listed.
  const auto made = post("/api/keys", {{"name", "ci"}, {"scope", "generate"}}, bearer(admin));
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string ci = made.json()["key"];
  EXPECT_EQ(post("/v1/chat/completions", chat_body(kOther), bearer(ci)).status, 200);
  const auto listed = call("GET", "/api/keys", "", bearer(admin));
  EXPECT_EQ(listed.body.find(ci), std::string::npos);
  EXPECT_EQ(listed.json()["keys"].size(), 4u);
  EXPECT_EQ(call("DELETE", "/api/keys/ci", "", bearer(admin)).status, 200);
  EXPECT_EQ(post("/v1/chat/completions", chat_body(kOther), bearer(ci)).status, 401);
  EXPECT_EQ(post("/api/keys", {{"name", "ops"}}, bearer(admin)).status, 400) << "an active key has that name";
}

TEST_F(Security, KeysMadeOrRevokedByTheCliTakeEffectInARunningServer) {
  const std::string first = create_key("first", {"--scope", "read", "--expires", "2s"});
  start();
  EXPECT_EQ(call("GET", "/api/models", "", bearer(first)).status, 200);
  const std::string second = create_key("second", {"--scope", "read"});
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (call("GET", "/api/models", "", bearer(second)).status != 200 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(200ms);
  EXPECT_EQ(call("GET", "/api/models", "", bearer(second)).status, 200);
  // The first key expires after 2 s.
  std::this_thread::sleep_for(2100ms);
  EXPECT_EQ(call("GET", "/api/models", "", bearer(first)).status, 401);
  const auto r = run_process({rmm_binary().string(), "keys", "revoke", "second", "--database", db_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (call("GET", "/api/models", "", bearer(second)).status != 401 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(200ms);
  EXPECT_EQ(call("GET", "/api/models", "", bearer(second)).status, 401);
  const auto list = run_process({rmm_binary().string(), "keys", "list", "--json", "--database", db_});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const json keys = json::parse(list.out);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0]["state"], "expired");
  EXPECT_EQ(keys[1]["state"], "revoked");
  EXPECT_EQ(list.out.find(first), std::string::npos);
}

TEST_F(Security, TheWebSocketAuthenticatesOnItsUpgrade) {
  const std::string gen = create_key("app", {"--scope", "generate"});
  const std::string reader = create_key("dash", {"--scope", "read"});
  start({"--model", kSmall});
  EXPECT_THROW(WsClient("127.0.0.1", port()), std::runtime_error);
  WsClient::Options as_reader;
  as_reader.headers = {{"Authorization", "Bearer " + reader}};
  EXPECT_THROW(WsClient("127.0.0.1", port(), as_reader), std::runtime_error);
  WsClient::Options header;
  header.headers = {{"Authorization", "Bearer " + gen}};
  WsClient a("127.0.0.1", port(), header);
  // A browser offers the key as a subprotocol beside "rmm"; the answer names "rmm", never the key.
  WsClient::Options protocol;
  protocol.headers = {{"Sec-WebSocket-Protocol", "rmm, rmm-key." + gen}};
  WsClient b("127.0.0.1", port(), protocol);
  EXPECT_EQ(b.protocol(), "rmm");
  b.send({{"type", "generate"}, {"id", "g"}, {"prompt", "Once"}, {"params", {{"max_tokens", 3}}}});
  const auto msgs = b.until([](const json& m) { return m.value("type", "") == "complete"; });
  EXPECT_EQ(msgs.back().value("finish_reason", ""), "length") << msgs.back().dump();
}

TEST_F(Security, ChatHistoryIsPerKey) {
  const std::string admin = create_key("ops", {"--scope", "admin"});
  const std::string a = create_key("alice", {"--scope", "generate"});
  const std::string b = create_key("bob", {"--scope", "generate"});
  start({"--model", kSmall});
  const auto made = post("/api/chat/history", {{"title", "alice's"}}, bearer(a));
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string id = made.json()["id"];
  json body = chat_body(kSmall);
  body["rmm_conversation_id"] = "new";
  ASSERT_EQ(post("/v1/chat/completions", body, bearer(b)).status, 200);
  const auto list_of = [&](const std::string& key) {
    return call("GET", "/api/chat/history", "", bearer(key)).json()["total"].get<int>();
  };
  EXPECT_EQ(list_of(a), 1);
  EXPECT_EQ(list_of(b), 1);
  EXPECT_EQ(list_of(admin), 2);
  EXPECT_EQ(call("GET", "/api/chat/history/" + id, "", bearer(b)).status, 404);
  EXPECT_EQ(call("DELETE", "/api/chat/history/" + id, "", bearer(b)).status, 404);
  body["rmm_conversation_id"] = id;
  EXPECT_EQ(post("/v1/chat/completions", body, bearer(b)).status, 404);
  EXPECT_EQ(call("GET", "/api/chat/history/" + id, "", bearer(a)).status, 200);
  EXPECT_EQ(call("GET", "/api/chat/history/" + id, "", bearer(admin)).status, 200);
}

TEST_F(Security, ANetworkBindNeedsAKeyOrInsecure) {
  const auto r = run_process({rmm_binary().string(), "serve", "--host", "0.0.0.0", "--port", "0",
                              "--models-dir", models_.string(), "--database", db_},
                             "", 30);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("rmm keys create"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--insecure"), std::string::npos) << r.err;
  // With a key it starts (and asks for it); --insecure starts without one.
  const std::string key = create_key("ops", {"--scope", "admin"});
  server_ = std::make_unique<ServerProcess>(std::vector<std::string>{
      "--host", "0.0.0.0", "--port", "0", "--models-dir", models_.string(), "--database", db_, "--no-cache"});
  EXPECT_EQ(http_get(port(), "/api/models").status, 401);
  EXPECT_EQ(call("GET", "/api/models", "", bearer(key)).status, 200);
  // A network bind does not check Host names (keys protect it).
  EXPECT_EQ(
      call("GET", "/api/models", "", {{"Host", "box.example"}, {"Authorization", "Bearer " + key}}).status,
      200);
}

TEST_F(Security, InsecureServesTheNetworkWithoutKeys) {
  server_ = std::make_unique<ServerProcess>(std::vector<std::string>{
      "--host", "0.0.0.0", "--port", "0", "--models-dir", models_.string(), "--database", db_, "--insecure"});
  EXPECT_EQ(http_get(port(), "/api/models").status, 200);
}

// ---- rate limits ----------------------------------------------------------------

TEST_F(Security, RequestsPerMinutePerClientWithoutKeys) {
  start({"--requests-per-minute", "3"});
  for (int i = 0; i < 3; ++i) {
    const auto r = http_get(port(), "/api/models");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("x-ratelimit-limit-requests"), "3");
    EXPECT_EQ(r.header("x-ratelimit-remaining-requests"), std::to_string(2 - i));
    EXPECT_FALSE(r.header("x-ratelimit-reset-requests").empty());
  }
  const auto over = http_get(port(), "/api/models");
  EXPECT_EQ(over.status, 429) << over.body;
  EXPECT_EQ(over.json()["error"]["code"], "rate_limit_exceeded");
  // A bucket refills at 3 per minute: the next request is possible in about 20 s.
  const int retry = std::stoi(over.header("Retry-After"));
  EXPECT_GE(retry, 15);
  EXPECT_LE(retry, 21);
  EXPECT_EQ(over.header("x-ratelimit-remaining-requests"), "0");
  EXPECT_EQ(http_get(port(), "/health").status, 200) << "health checks are never limited";
}

TEST_F(Security, KeysHaveTheirOwnBucketsAndLimits) {
  const std::string a = create_key("a", {"--scope", "generate", "--requests-per-minute", "2"});
  const std::string b = create_key("b", {"--scope", "generate"});  // the server's default: 5
  start({"--model", kSmall, "--requests-per-minute", "5"});
  EXPECT_EQ(call("GET", "/v1/models", "", bearer(a)).status, 200);
  EXPECT_EQ(call("GET", "/v1/models", "", bearer(a)).status, 200);
  EXPECT_EQ(call("GET", "/v1/models", "", bearer(a)).status, 429);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(call("GET", "/v1/models", "", bearer(b)).status, 200) << i;
  EXPECT_EQ(call("GET", "/v1/models", "", bearer(b)).status, 429);
}

TEST_F(Security, TokensPerMinuteAndStreamsAtOnce) {
  const std::string key =
      create_key("app", {"--scope", "generate", "--tokens-per-minute", "40", "--max-streams", "1"});
  start({"--model", kSmall});
  // A generation of 30 tokens (plus its prompt) spends more than the 40 a minute allows for 40 / 60 s.
  json body = {{"model", kSmall},
               {"prompt", "Once upon a time"},
               {"max_tokens", 30},
               {"ignore_eos", true},
               {"temperature", 0}};
  const auto first = post("/v1/completions", body, bearer(key));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.header("x-ratelimit-limit-tokens"), "40");
  const auto second = post("/v1/completions", body, bearer(key));
  ASSERT_EQ(second.status, 200) << "40 - (30 + prompt) > 0 was left";
  const auto third = post("/v1/completions", body, bearer(key));
  EXPECT_EQ(third.status, 429) << third.body;
  EXPECT_NE(third.body.find("tokens per minute"), std::string::npos) << third.body;
}

TEST_F(Security, StreamsAtOnce) {
  const std::string key = create_key("app", {"--scope", "generate", "--max-streams", "1"});
  start({"--model", kSmall});
  json endless = {
      {"model", kSmall}, {"prompt", "Once"}, {"max_tokens", 100000}, {"ignore_eos", true}, {"stream", true}};
  HttpConnection c(port());
  c.send_request("POST", "/v1/completions", endless.dump(),
                 {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + key}});
  ASSERT_EQ(c.read_head().status, 200);
  const auto busy =
      post("/v1/completions", {{"model", kSmall}, {"prompt", "x"}, {"max_tokens", 1}}, bearer(key));
  EXPECT_EQ(busy.status, 429) << busy.body;
  EXPECT_NE(busy.body.find("at once"), std::string::npos);
  c.close();  // the stream ends: its place is free again
  const auto until = std::chrono::steady_clock::now() + 10s;
  int status = 0;
  while (status != 200 && std::chrono::steady_clock::now() < until) {
    status =
        post("/v1/completions", {{"model", kSmall}, {"prompt", "x"}, {"max_tokens", 1}}, bearer(key)).status;
    if (status != 200) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(status, 200);
}

// ---- connections and slow clients ------------------------------------------------

TEST_F(Security, SlowAndIdleClientsAreDisconnected) {
  start({"--header-timeout", "1s", "--body-timeout", "1s", "--idle-timeout", "1s"});
  // Slowloris: a header line trickles in a byte at a time; the connection goes after ~1 s.
  HttpConnection slow(port(), 5s);
  const auto t0 = std::chrono::steady_clock::now();
  slow.send_raw("GET /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    slow.send_raw("X");
    closed = slow.wait_closed(100ms);
  }
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(closed);
  EXPECT_LT(took, 3s);
  // A body that never arrives.
  HttpConnection body(port(), 5s);
  body.send_raw(
      "POST /api/tokenize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
      "100\r\n\r\n{");
  EXPECT_TRUE(body.wait_closed(3s));
  // An idle kept-alive connection.
  HttpConnection idle(port(), 5s);
  idle.send_request("GET", "/health", "", {}, true);
  EXPECT_EQ(idle.read_head().status, 200);
  idle.read_body();
  EXPECT_TRUE(idle.wait_closed(3s));
  // The server still answers.
  EXPECT_EQ(http_get(port(), "/health").status, 200);
}

TEST_F(Security, OversizedHeadersAndTooManyConnections) {
  start({"--max-connections", "4"});
  const auto big = call("GET", "/api/models", "", {{"X-Big", std::string(64 * 1024, 'a')}});
  EXPECT_EQ(big.status, 431) << big.body;
  std::vector<std::unique_ptr<HttpConnection>> open;
  for (int i = 0; i < 4; ++i) {
    open.push_back(std::make_unique<HttpConnection>(port()));
    open.back()->send_request("GET", "/health", "", {}, true);
    EXPECT_EQ(open.back()->read_head().status, 200);
    open.back()->read_body();
  }
  const auto refused = http_get(port(), "/health");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("max-connections"), std::string::npos);
  open.pop_back();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(http_get(port(), "/health").status, 200);
}

// ---- audit log --------------------------------------------------------------------

TEST_F(Security, TheAuditLogRecordsGenerationsAndAdminActionsWithTheirKey) {
  const std::string admin = create_key("ops", {"--scope", "admin"});
  const std::string gen = create_key("app", {"--scope", "generate"});
  start({"--model", kSmall});
  ASSERT_EQ(
      post("/v1/completions",
           {{"model", kSmall}, {"prompt", "Once"}, {"max_tokens", 5}, {"ignore_eos", true}}, bearer(gen))
          .status,
      200);
  ASSERT_EQ(post("/api/models/load", {{"model", kOther}}, bearer(admin)).status, 200);
  EXPECT_EQ(post("/api/models/unload", {{"model", kOther}}, bearer(gen)).status, 403);
  WsClient::Options ws_key;
  ws_key.headers = {{"Authorization", "Bearer " + gen}};
  {
    WsClient ws("127.0.0.1", port(), ws_key);
    ws.send({{"type", "generate"},
             {"id", "g"},
             {"prompt", "Once"},
             {"model", kSmall},
             {"params", {{"max_tokens", 3}}}});
    ws.until([](const json& m) { return m.value("type", "") == "complete"; });
  }
  EXPECT_EQ(call("GET", "/api/audit", "", bearer(gen)).status, 403);
  json entries;
  const auto until = std::chrono::steady_clock::now() + 10s;
  do {  // the WebSocket's entry is written when its generation ends
    entries = call("GET", "/api/audit", "", bearer(admin)).json()["entries"];
  } while (entries.size() < 4 && std::chrono::steady_clock::now() < until);
  ASSERT_GE(entries.size(), 4u) << entries.dump(2);
  bool saw_completion = false, saw_load = false, saw_ws = false, saw_refusal = false;
  for (const auto& e : entries) {
    EXPECT_EQ(e["client"], "127.0.0.1");
    if (e["route"] == "/v1/completions") {
      saw_completion = true;
      EXPECT_EQ(e["key"], "app");
      EXPECT_EQ(e["status"], 200);
      EXPECT_EQ(e["model"], "stories260k:f32");  // kSmall's registry short name: the id the server shows
      EXPECT_EQ(e["completion_tokens"], 5);
      EXPECT_GT(e["prompt_tokens"].get<int>(), 0);
    } else if (e["route"] == "/api/models/load") {
      saw_load = true;
      EXPECT_EQ(e["key"], "ops");
      EXPECT_EQ(e["model"], kOther);
    } else if (e["route"] == "/api/models/unload") {
      saw_refusal = true;  // refused, and recorded with the key that tried
      EXPECT_EQ(e["key"], "app");
      EXPECT_EQ(e["status"], 403);
    } else if (e["method"] == "WS") {
      saw_ws = true;
      EXPECT_EQ(e["key"], "app");
      EXPECT_EQ(e["completion_tokens"], 3);
    }
    EXPECT_EQ(e.dump().find(gen), std::string::npos) << "never the key itself";
  }
  EXPECT_TRUE(saw_completion && saw_load && saw_ws && saw_refusal) << entries.dump(2);
  // Filters, and the same log from the command line.
  const auto mine = call("GET", "/api/audit?key=ops", "", bearer(admin)).json()["entries"];
  for (const auto& e : mine) EXPECT_EQ(e["key"], "ops");
  const auto cli = run_process(
      {rmm_binary().string(), "audit", "--json", "--key", "app", "--since", "1h", "--database", db_});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const json rows = json::parse(cli.out);
  EXPECT_GE(rows.size(), 2u);
  for (const auto& e : rows) EXPECT_EQ(e["key"], "app");
}

}  // namespace
}  // namespace rmm::test
