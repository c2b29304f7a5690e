// Supervised workers seen from outside: each loaded model is its own `rmm
// worker` process. A worker killed with SIGKILL mid-stream fails only its own
// requests (a stream ends with an "unavailable" error event, a waiting answer
// with 503), other models keep streaming, the next request reloads it, a model
// that keeps crashing waits before it reloads, and no worker outlives its server.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "../server_ws/ws_client.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

namespace rmm::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// The registry's short names of stories260K.gguf and TinyStories-656K-Q8_0.gguf: the ids the server shows.
const char* kA = "stories260k:f32";
const char* kB = "tinystories-656k:q8_0";

bool process_gone(pid_t pid) { return test::process_ended(pid); }

bool wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!process_gone(pid)) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// A stream that runs until it is cut: end of text is ignored and the context is large.
json endless(const std::string& model) {
  return {
      {"model", model}, {"prompt", "Once"}, {"max_tokens", 100000}, {"ignore_eos", true}, {"stream", true}};
}

class Workers : public ::testing::Test {
 protected:
  void SetUp() override {
    if (shared_model("stories260K.gguf").empty() || shared_model("TinyStories-656K-Q8_0.gguf").empty())
      GTEST_SKIP() << "shared models absent in " << shared_models_dir();
  }
  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "server output:\n" << server_->output() << "\n";
  }
  void start(const std::vector<std::string>& extra = {},
             const std::filesystem::path& models = shared_models_dir(), int ctx = 8192) {
    std::vector<std::string> args = {"--host",     "127.0.0.1",         "--port",        "0",          "-t",
                                     "1",          "--models-dir",      models.string(), "--parallel", "2",
                                     "--ctx-size", std::to_string(ctx), "--no-cache"};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(args);
  }
  HttpResponse complete(const std::string& model, int max_tokens = 8) {
    return http_post_json(
        server_->port(), "/v1/completions",
        {{"model", model}, {"prompt", "Once"}, {"max_tokens", max_tokens}, {"temperature", 0}});
  }
  json loaded_model(const std::string& id) {
    const json l = http_get(server_->port(), "/api/models/loaded").json();
    for (const auto& m : l["models"]) {
      if (m["id"] == id) return m;
    }
    return nullptr;
  }
  pid_t worker_pid(const std::string& id) {
    const json m = loaded_model(id);
    // Never -1 or 0: kill() would take those as every process of ours, or our group.
    if (m.is_null() || m["worker"].is_null()) throw std::runtime_error("no worker serves '" + id + "'");
    return m["worker"]["pid"].get<pid_t>();
  }
  // Waits until the server has noticed a dead worker: its model leaves /api/models/loaded.
  bool wait_unlisted(const std::string& id) {
    for (int i = 0; i < 500; ++i) {
      if (loaded_model(id).is_null()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  int64_t loads_started() {
    return http_get(server_->port(), "/api/models/loaded").json()["loads_started"].get<int64_t>();
  }
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(Workers, AWorkerKilledMidStreamFailsOnlyItsRequestsAndTheNextRequestReloadsIt) {
  start();
  const int port = server_->port();
  ASSERT_EQ(complete(kA).status, 200);
  ASSERT_EQ(complete(kB).status, 200);
  const pid_t a_pid = worker_pid(kA), b_pid = worker_pid(kB);
  ASSERT_GT(a_pid, 0);
  ASSERT_GT(b_pid, 0);
  EXPECT_NE(a_pid, b_pid);
  EXPECT_NE(a_pid, server_->pid());
  const int64_t loads = loads_started();

  SseStream a(port, "/v1/completions", endless(kA));
  SseStream b(port, "/v1/completions", endless(kB));
  ASSERT_EQ(a.head().status, 200);
  ASSERT_EQ(b.head().status, 200);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(a.next_event().has_value());
    ASSERT_TRUE(b.next_event().has_value());
  }
  // A second request of model A that waits for its whole answer (both slots busy then).
  auto waiting = std::async(std::launch::async, [&] {
    return http_post_json(port, "/v1/completions",
                          {{"model", kA}, {"prompt", "Once"}, {"max_tokens", 100000}, {"ignore_eos", true}},
                          60s);
  });
  std::this_thread::sleep_for(100ms);  // it is submitted
  ASSERT_EQ(kill(a_pid, SIGKILL), 0);

  // A's stream ends with an error event naming the cause, then the stream ends (no [DONE]).
  std::optional<std::string> last;
  int after_kill = 0;
  while (auto ev = a.next_event()) {
    last = ev;
    if (++after_kill > 100000) break;
  }
  ASSERT_TRUE(last.has_value());
  ASSERT_EQ(last->rfind("data: ", 0), 0u) << *last;
  const json err = json::parse(last->substr(6));
  ASSERT_TRUE(err.contains("error")) << *last;
  EXPECT_EQ(err["error"]["code"], "unavailable");
  const std::string message = err["error"]["message"];
  EXPECT_NE(message.find("SIGKILL"), std::string::npos) << message;
  EXPECT_NE(message.find(kA), std::string::npos) << message;

  const auto w = waiting.get();
  EXPECT_EQ(w.status, 503) << w.body;
  EXPECT_EQ(w.json()["error"]["code"], "unavailable") << w.body;
  EXPECT_FALSE(w.header("Retry-After").empty());

  // B never noticed: its stream goes on.
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(b.next_event().has_value()) << "model B's stream stopped";
  EXPECT_TRUE(process_gone(a_pid));
  EXPECT_FALSE(process_gone(b_pid));
  EXPECT_TRUE(server_->wait_for_output("was killed by SIGKILL (signal 9)", 5s)) << "the cause is not logged";

  // The next request to A loads it again, in a new worker.
  const auto again = complete(kA);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(loads_started(), loads + 1);
  const pid_t a2 = worker_pid(kA);
  EXPECT_GT(a2, 0);
  EXPECT_NE(a2, a_pid);
  b.close();
}

TEST_F(Workers, AModelThatKeepsCrashingWaitsBeforeItReloads) {
  start();
  ASSERT_EQ(complete(kA).status, 200);
  ASSERT_EQ(kill(worker_pid(kA), SIGKILL), 0);
  ASSERT_TRUE(wait_unlisted(kA));
  const auto first = complete(kA);  // the first crash reloads at once
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(kill(worker_pid(kA), SIGKILL), 0);
  ASSERT_TRUE(wait_unlisted(kA));

  const auto refused = complete(kA);
  ASSERT_EQ(refused.status, 503) << refused.body;
  const std::string message = refused.json()["error"]["message"];
  EXPECT_NE(message.find("crashed 2 times"), std::string::npos) << message;
  const int retry = std::stoi(refused.header("Retry-After"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 30);
  // Other models load meanwhile.
  EXPECT_EQ(complete(kB).status, 200);

  std::this_thread::sleep_for(std::chrono::seconds(retry));
  const auto later = complete(kA);
  EXPECT_EQ(later.status, 200) << later.body;
}

TEST_F(Workers, AHungWorkerIsKilledAfterTheTimeoutAndItsModelReloads) {
  // SIGSTOP makes a worker that is alive but says nothing: a hang, as a stuck GPU would be.
  start({"--worker-timeout", "1s"}, shared_models_dir(), 65536);  // 32k tokens a slot: minutes of stream
  ASSERT_EQ(complete(kA).status, 200);
  const pid_t pid = worker_pid(kA);
  SseStream a(server_->port(), "/v1/completions", endless(kA));
  ASSERT_TRUE(a.next_event().has_value());
  // A stream that keeps flowing for longer than the timeout is not taken as hung.
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(a.next_event().has_value());
  ASSERT_EQ(worker_pid(kA), pid);
  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  std::optional<std::string> last;
  while (auto ev = a.next_event()) last = ev;
  ASSERT_TRUE(last.has_value());
  const json err = json::parse(last->substr(6));
  ASSERT_TRUE(err.contains("error")) << *last;
  EXPECT_EQ(err["error"]["code"], "unavailable");
  const std::string message = err["error"]["message"];
  EXPECT_NE(message.find("stopped responding"), std::string::npos) << message;
  EXPECT_TRUE(wait_gone(pid, 5s));
  ASSERT_TRUE(wait_unlisted(kA));
  EXPECT_EQ(complete(kA).status, 200);  // reloaded
  EXPECT_NE(worker_pid(kA), pid);
}

TEST_F(Workers, NoWorkerOutlivesItsServer) {
  start();
  ASSERT_EQ(complete(kA).status, 200);
  ASSERT_EQ(complete(kB).status, 200);
  const pid_t a = worker_pid(kA), b = worker_pid(kB);
  // An idle unload ends the worker too.
  ASSERT_EQ(http_post_json(server_->port(), "/api/models/unload", {{"model", kB}}).status, 200);
  EXPECT_TRUE(wait_gone(b, 5s)) << "an unloaded model's worker is still running";
  // A server killed outright leaves no worker behind: the worker sees its socket close.
  SseStream s(server_->port(), "/v1/completions", endless(kA));
  ASSERT_TRUE(s.next_event().has_value());
  server_->stop(SIGKILL, 5s);
  EXPECT_TRUE(wait_gone(a, 5s)) << "a worker outlived its SIGKILLed server";
}

TEST_F(Workers, AGracefulStopEndsEveryWorker) {
  start();
  ASSERT_EQ(complete(kA).status, 200);
  const pid_t a = worker_pid(kA);
  SseStream s(server_->port(), "/v1/completions", endless(kA));
  ASSERT_TRUE(s.next_event().has_value());
  const auto status = server_->stop(SIGTERM, 5s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->exited && status->code == 0);
  EXPECT_TRUE(wait_gone(a, 5s));
}

TEST_F(Workers, AModelFileRewrittenInPlaceWhileLoadedTakesDownOnlyItsWorker) {
  // The model is memory-mapped: cutting the file under the map makes the next
  // read of its weights a SIGBUS. That must end in the worker, not the server.
  const auto dir = temp_dir("workers_rewrite");
  const auto file = dir / "victim.gguf";
  std::filesystem::copy_file(shared_model("stories260K.gguf"), file);
  std::filesystem::copy_file(shared_model("TinyStories-656K-Q8_0.gguf"), dir / "other.gguf");
  start({}, dir);
  ASSERT_EQ(complete("victim").status, 200);
  ASSERT_EQ(complete("other").status, 200);
  std::filesystem::resize_file(file, 4096);  // in place: same inode, the mapping now runs past the end

  const auto hit = complete("victim", 16);
  ASSERT_EQ(hit.status, 503) << hit.body;
  const std::string message = hit.json()["error"]["message"];
  EXPECT_NE(message.find("SIGBUS"), std::string::npos) << message;
  EXPECT_NE(message.find("changed on disk"), std::string::npos) << message;
  EXPECT_TRUE(server_->running());
  EXPECT_EQ(complete("other").status, 200);  // the other model never noticed
  // Reloading the cut file is refused with a clear error, not another crash.
  ASSERT_TRUE(wait_unlisted("victim"));
  const auto reload = complete("victim");
  EXPECT_EQ(reload.status, 422) << reload.body;
  EXPECT_TRUE(server_->running());
}

TEST_F(Workers, AWebSocketGenerationEndsWithUnavailableAndTheSocketGoesOn) {
  // The random-weight model almost never samples end of text, so its generation runs until the kill.
  if (shared_model("llama-2-tiny-random.gguf").empty()) GTEST_SKIP() << "llama-2-tiny-random.gguf absent";
  start();
  WsClient ws("127.0.0.1", server_->port());
  ws.send({{"type", "load"}, {"model", "llama-2-tiny-random"}});
  ws.until(
      [](const json& m) { return m.value("type", "") == "load_complete" || m.value("type", "") == "error"; },
      30s);
  const json gen = {{"type", "generate"},
                    {"id", "g"},
                    {"model", "llama-2-tiny-random"},
                    {"prompt", "Once"},
                    {"params", {{"temperature", 1.0}, {"seed", 3}, {"max_tokens", 4000}}}};
  ws.send(gen);
  int tokens = 0;
  ws.until([&](const json& m) { return m.value("type", "") == "token" && ++tokens >= 3; }, 30s);
  ASSERT_EQ(kill(worker_pid("llama-2-tiny-random:f16"), SIGKILL), 0);  // its registry short name
  const auto msgs = ws.until([](const json& m) { return m.value("type", "") == "complete"; }, 10s);
  const json& done = msgs.back();
  EXPECT_EQ(done["finish_reason"], "error") << done.dump();
  EXPECT_EQ(done["code"], "unavailable") << done.dump();
  EXPECT_NE(done.value("message", "").find("SIGKILL"), std::string::npos) << done.dump();
  // Same socket, next generation: the model loads again in a new worker.
  ASSERT_TRUE(wait_unlisted("llama-2-tiny-random"));
  ws.send({{"type", "load"}, {"model", "llama-2-tiny-random"}});
  const auto reload = ws.until(
      [](const json& m) { return m.value("type", "") == "load_complete" || m.value("type", "") == "error"; },
      30s);
  ASSERT_EQ(reload.back()["type"], "load_complete") << reload.back().dump();
  json again = gen;
  again["id"] = "h";
  again["params"]["max_tokens"] = 4;
  ws.send(again);
  const auto next = ws.until([](const json& m) { return m.value("type", "") == "complete"; }, 30s);
  EXPECT_EQ(next.back()["id"], "h");
  EXPECT_EQ(next.back()["finish_reason"], "length") << next.back().dump();
  ws.close();
}

TEST_F(Workers, InProcessModelsAnswerAsWorkersDo) {
  start();
  const auto in_worker = complete(kB, 32);
  ASSERT_EQ(in_worker.status, 200);
  server_->stop(SIGTERM, 5s);
  start({"--in-process"});
  const auto in_process = complete(kB, 32);
  ASSERT_EQ(in_process.status, 200);
  EXPECT_EQ(in_process.json()["choices"][0]["text"], in_worker.json()["choices"][0]["text"]);
  EXPECT_TRUE(loaded_model(kB)["worker"].is_null());
}

}  // namespace
}  // namespace rmm::test
