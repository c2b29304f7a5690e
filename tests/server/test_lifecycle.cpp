// Slots, the wait queue, client disconnects and shutdown: each test runs its
// own server with the settings it needs.
#include <signal.h>

#include <thread>

#include "core/subprocess.hpp"
#include "server_fixture.hpp"
#include "support/test_env.hpp"

using namespace rmm::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

const std::string kPrompt = "Once upon a time";

// A generation that runs until max_tokens: EOS (token 2) is banned.
json long_request(int max_tokens, bool stream) {
  return {{"model", kModelId}, {"prompt", kPrompt}, {"max_tokens", max_tokens},
          {"temperature", 0},  {"stream", stream},  {"logit_bias", {{"2", -100}}}};
}

json short_request(int max_tokens) {
  return {{"model", kModelId}, {"prompt", kPrompt}, {"max_tokens", max_tokens}, {"temperature", 0}};
}

std::chrono::milliseconds since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t);
}

class ServerLifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = shared_model(kModelFile);
    if (model_.empty())
      GTEST_SKIP() << "shared model " << kModelFile << " is absent in " << shared_models_dir();
  }
  std::unique_ptr<ServerProcess> start(const std::vector<std::string>& extra) {
    return std::make_unique<ServerProcess>(serve_args(model_, extra));
  }
  std::filesystem::path model_;
};

TEST_F(ServerLifecycle, ClientDisconnectMidStreamFreesTheSlot) {
  auto server = start({"--parallel", "1", "--ctx-size", "2048", "--queue", "4"});
  // How long 300 tokens take here, to size the time a whole 2000-token generation would hold the slot.
  auto t0 = Clock::now();
  ASSERT_EQ(http_post_json(server->port(), "/v1/completions", long_request(300, false)).status, 200);
  const auto t300 = since(t0);

  {
    SseStream s(server->port(), "/v1/completions", long_request(2000, true));
    ASSERT_EQ(s.head().status, 200);
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(s.next_event().has_value());
    }
    s.close();
  }
  t0 = Clock::now();
  auto r = http_post_json(server->port(), "/v1/completions", short_request(5), 30s);
  const auto waited = since(t0);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["choices"][0]["text"], cli_greedy(model_, kPrompt, 5));
  // Had the abandoned generation gone on, this request would have waited for ~1990 more tokens.
  EXPECT_LT(waited, 3 * t300 + 100ms)
      << "300 tokens took " << t300.count() << " ms; the next request waited " << waited.count() << " ms\n"
      << server->output();
}

TEST_F(ServerLifecycle, QueueOverflowIs503WithRetryAfter) {
  auto server = start({"--parallel", "1", "--ctx-size", "2048", "--queue", "1"});
  const int port = server->port();
  // A holds the only slot.
  SseStream a(port, "/v1/completions", long_request(2000, true));
  ASSERT_EQ(a.head().status, 200);
  ASSERT_TRUE(a.next_event().has_value());
  // B waits in the queue (its one place).
  HttpConnection b(port);
  b.send_request("POST", "/v1/completions", short_request(3).dump(), {{"Content-Type", "application/json"}});
  std::this_thread::sleep_for(300ms);
  // C finds the queue full.
  auto c = http_post_json(port, "/v1/completions", short_request(3), 10s);
  expect_openai_error(c, 503);
  EXPECT_TRUE(c.has_header("Retry-After")) << "503 must say when to retry";
  const std::string retry = c.header("Retry-After");
  EXPECT_TRUE(!retry.empty() && retry.find_first_not_of("0123456789") == std::string::npos)
      << "Retry-After in seconds: '" << retry << "'";
  // Streaming requests are refused the same way.
  SseStream c2(port, "/v1/completions", long_request(3, true), 10s);
  EXPECT_EQ(c2.head().status, 503);
  EXPECT_TRUE(c2.head().has_header("Retry-After"));
  c2.close();

  // A leaves: B runs, then the queue takes requests again.
  a.close();
  auto head = b.read_head();
  head.body = b.read_body();
  ASSERT_EQ(head.status, 200) << head.body;
  EXPECT_EQ(head.json()["choices"][0]["text"], cli_greedy(model_, kPrompt, 3));
  auto d = http_post_json(port, "/v1/completions", short_request(3), 10s);
  EXPECT_EQ(d.status, 200) << d.body;
}

TEST_F(ServerLifecycle, SigtermDuringAStreamExitsZeroWithinTwoSeconds) {
  auto server = start({"--parallel", "2", "--ctx-size", "2048"});
  SseStream s(server->port(), "/v1/completions", long_request(2000, true));
  ASSERT_EQ(s.head().status, 200);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(s.next_event().has_value());
  }
  // A second request waiting for its head, too.
  HttpConnection waiting(server->port());
  waiting.send_request("POST", "/v1/completions", long_request(2000, false).dump(),
                       {{"Content-Type", "application/json"}});
  std::this_thread::sleep_for(100ms);

  server->signal(SIGTERM);
  std::this_thread::sleep_for(100ms);
  EXPECT_THROW(HttpConnection(server->port()), std::runtime_error)
      << "still accepting connections after SIGTERM";
  const auto status = server->wait(5s);
  ASSERT_TRUE(status.has_value()) << "still running 5 s after SIGTERM\n" << server->output();
  EXPECT_TRUE(status->exited) << "killed by signal " << status->signal;
  EXPECT_EQ(status->code, 0) << server->output();
  EXPECT_LT(status->took, 2000ms);
  // The stream ends with an error event that says why (no [DONE]: the answer is not complete).
  std::string last;
  try {
    while (auto e = s.next_event()) last = *e;
  } catch (const std::exception&) {
    // the connection may close right after the event
  }
  EXPECT_NE(last.find("\"unavailable\""), std::string::npos) << last;
  EXPECT_NE(last.find("shutting down"), std::string::npos) << last;
  // The open connections end rather than hang.
  EXPECT_TRUE(s.connection().wait_closed(2s));
  EXPECT_TRUE(waiting.wait_closed(2s));
}

TEST_F(ServerLifecycle, SigintWhenIdleExitsZero) {
  auto server = start({});
  ASSERT_EQ(http_get(server->port(), "/health").status, 200);
  const auto status = server->stop(SIGINT, 5s);
  ASSERT_TRUE(status.has_value()) << server->output();
  EXPECT_TRUE(status->exited && status->code == 0) << "code " << status->code << " signal " << status->signal;
  EXPECT_LT(status->took, 2000ms);
}

TEST_F(ServerLifecycle, PortInUseFailsWithAMessage) {
  auto first = start({});
  auto r = rmm::run_process(
      {rmm_binary().string(), "serve", "--model", model_.string(), "--host", "127.0.0.1", "--port",
       std::to_string(first->port()), "-t", "1", "--database", (temp_dir("port-in-use") / "rmm.db").string()},
      "", 30);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(std::to_string(first->port())), std::string::npos) << r.err;
  EXPECT_EQ(r.err.rfind("rmm: ", 0), 0u) << "runtime errors are one line 'rmm: ...': " << r.err;
}

TEST_F(ServerLifecycle, BadArgumentsFailBeforeListening) {
  auto missing = rmm::run_process({rmm_binary().string(), "serve", "--model", "/nonexistent/model.gguf",
                                   "--port", "0", "--database", (temp_dir("bad-args") / "rmm.db").string()},
                                  "", 10);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("/nonexistent/model.gguf"), std::string::npos) << missing.err;
  auto port = rmm::run_process(
      {rmm_binary().string(), "serve", "--model", model_.string(), "--port", "70000"}, "", 10);
  EXPECT_EQ(port.exit_code, 2) << "usage errors exit 2: " << port.err;
  auto parallel = rmm::run_process(
      {rmm_binary().string(), "serve", "--model", model_.string(), "--port", "0", "--parallel", "0"}, "", 10);
  EXPECT_EQ(parallel.exit_code, 2) << parallel.err;
}

TEST_F(ServerLifecycle, AClientThatStopsReadingDoesNotStallTheOthers) {
  auto server = start({"--parallel", "2", "--ctx-size", "4096"});
  // A asks for a long stream through a tiny receive window and stops reading after one event.
  SseStream a(server->port(), "/v1/completions", long_request(1900, true), 30s, 4096);
  ASSERT_EQ(a.head().status, 200);
  ASSERT_TRUE(a.next_event().has_value());
  std::this_thread::sleep_for(500ms);  // long enough for A's socket buffers to fill
  const auto t0 = Clock::now();
  auto b = http_post_json(server->port(), "/v1/completions", short_request(20), 10s);
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(b.json()["choices"][0]["text"], cli_greedy(model_, kPrompt, 20));
  EXPECT_LT(since(t0), 2000ms);
  a.close();
  EXPECT_EQ(http_post_json(server->port(), "/v1/completions", short_request(3), 10s).status, 200);
}

TEST_F(ServerLifecycle, RequestsThatFitTheFreeSlotsAreNeverRefused) {
  // Four slots and room for one waiting request: a burst of four fits the slots,
  // so nothing waits and nothing may get 503, however the requests interleave.
  auto server = start({"--parallel", "4", "--ctx-size", "2048", "--queue", "1"});
  const std::string expected = cli_greedy(model_, kPrompt, 30);
  for (int round = 0; round < 5; ++round) {
    std::vector<HttpResponse> responses(4);
    std::vector<std::unique_ptr<HttpConnection>> conns;
    for (int i = 0; i < 4; ++i) conns.push_back(std::make_unique<HttpConnection>(server->port()));
    for (auto& c : conns) {  // all four sent before any answer is read
      c->send_request("POST", "/v1/completions", short_request(30).dump(),
                      {{"Content-Type", "application/json"}});
    }
    for (int i = 0; i < 4; ++i) {
      responses[i] = conns[i]->read_head();
      responses[i].body = conns[i]->read_body();
    }
    for (int i = 0; i < 4; ++i) {
      SCOPED_TRACE("round " + std::to_string(round) + " request " + std::to_string(i));
      ASSERT_EQ(responses[i].status, 200) << responses[i].body;
      EXPECT_EQ(responses[i].json()["choices"][0]["text"], expected);
    }
  }
}

TEST_F(ServerLifecycle, QueueZeroServesFreeSlotsAndRefusesTheRest) {
  auto server = start({"--parallel", "1", "--ctx-size", "2048", "--queue", "0"});
  auto idle = http_post_json(server->port(), "/v1/completions", short_request(3), 10s);
  ASSERT_EQ(idle.status, 200) << "--queue 0 means no waiting, not no serving: " << idle.body;
  SseStream busy(server->port(), "/v1/completions", long_request(2000, true));
  ASSERT_EQ(busy.head().status, 200);
  ASSERT_TRUE(busy.next_event().has_value());
  auto refused = http_post_json(server->port(), "/v1/completions", short_request(3), 10s);
  expect_openai_error(refused, 503);
}

TEST_F(ServerLifecycle, AbandonedRequestsDoNotHoldTheSlot) {
  // Beyond streaming: a client that leaves while its request waits in the
  // queue, or while a non-streamed answer is generated, should not cost the
  // slot a whole generation either.
  auto server = start({"--parallel", "1", "--ctx-size", "2048", "--queue", "4"});
  const int port = server->port();
  SseStream running(port, "/v1/completions", long_request(2000, true));
  ASSERT_EQ(running.head().status, 200);
  ASSERT_TRUE(running.next_event().has_value());
  for (bool stream : {false, true}) {  // queued behind `running`, then abandoned
    HttpConnection queued(port);
    queued.send_request("POST", "/v1/completions", long_request(2000, stream).dump(),
                        {{"Content-Type", "application/json"}});
    std::this_thread::sleep_for(100ms);
  }
  running.close();
  {
    HttpConnection plain(port);  // abandoned while it runs
    plain.send_request("POST", "/v1/completions", long_request(2000, false).dump(),
                       {{"Content-Type", "application/json"}});
    std::this_thread::sleep_for(200ms);
  }
  const auto t0 = Clock::now();
  auto r = http_post_json(port, "/v1/completions", short_request(5), 30s);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_LT(since(t0), 1500ms) << "each abandoned 2000-token generation takes ~3 s here\n"
                               << server->output();
}

}  // namespace

TEST_F(ServerLifecycle, SigtermDuringAModelLoadExitsZero) {
  // A load a request started runs on a thread the host owns: shutdown cancels and joins it
  // rather than leaving it to report to a server that is gone.
  const auto other = shared_model("TinyStories-656K-Q8_0.gguf");
  if (other.empty()) GTEST_SKIP() << "TinyStories-656K-Q8_0.gguf is absent";
  for (int round = 0; round < 3; ++round) {
    auto server = start({});
    SseStream load(server->port(), "/api/models/load", {{"model", other.string()}, {"stream", true}});
    std::this_thread::sleep_for(std::chrono::milliseconds(round * 5));
    const auto status = server->stop(SIGTERM, 5s);
    ASSERT_TRUE(status.has_value()) << server->output();
    EXPECT_TRUE(status->exited && status->code == 0)
        << "code " << status->code << " signal " << status->signal << "\n"
        << server->output();
    EXPECT_LT(status->took, 2000ms);
  }
}
