// WorkerClient against the real `rmm worker` process and real models: the
// tokens match the shared model's published reference, load errors keep their
// kind, a killed worker ends its requests with Unavailable, and a client that
// goes away takes its worker with it.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "support/test_env.hpp"
#include "worker/worker_client.hpp"

namespace rmm::worker {
namespace {

using namespace std::chrono_literals;

// stories260K, prompt = BOS only, 32 greedy tokens: ../shared/models/README.md.
const std::vector<engine::Token> kReference = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315,
                                               421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408,
                                               419, 292, 411, 322, 265, 282, 295, 433, 426, 385};

WorkerOptions options(const std::filesystem::path& model, int n_ctx = 1024, int n_seq = 1) {
  WorkerOptions o;
  o.exe = test::rmm_binary().string();
  o.log_level = "warn";
  o.load.model_id = model.stem().string();
  o.load.path = model.string();
  o.load.context.n_ctx = n_ctx;
  o.load.context.n_seq = n_seq;
  o.load.context.n_threads = 1;
  o.n_vocab = 512;  // stories260K's
  return o;
}

engine::GenerateRequest greedy(int max_tokens, bool ignore_eos = false) {
  engine::GenerateRequest q;
  q.prompt = {1};
  q.sampling.temperature = 0;
  q.max_tokens = max_tokens;
  q.ignore_eos = ignore_eos;
  return q;
}

// Collects one request's events; waits for its end.
struct Outcome {
  std::mutex m;
  std::condition_variable cv;
  std::vector<engine::TokenEvent> tokens;
  std::optional<engine::GenerationResult> done;
  engine::TokenCallback on_token() {
    return [this](const engine::TokenEvent& ev) {
      std::lock_guard lock(m);
      tokens.push_back(ev);
      cv.notify_all();
    };
  }
  engine::DoneCallback on_done() {
    return [this](const engine::GenerationResult& r) {
      std::lock_guard lock(m);
      EXPECT_FALSE(done.has_value()) << "on_done ran twice";
      done = r;
      cv.notify_all();
    };
  }
  bool wait_done(std::chrono::milliseconds t = 30s) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, t, [this] { return done.has_value(); });
  }
  bool wait_tokens(size_t n, std::chrono::milliseconds t = 30s) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, t, [&] { return tokens.size() >= n || done.has_value(); });
  }
};

bool process_gone(pid_t pid) { return test::process_ended(pid); }

TEST(WorkerClient, GreedyTokensMatchTheSharedModelsReference) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  auto client = WorkerClient::start(options(model));
  EXPECT_TRUE(client->alive());
  EXPECT_EQ(client->shape().n_seq, 1);
  EXPECT_EQ(client->shape().n_ctx_seq, 1024);
  EXPECT_FALSE(client->info().description.empty());
  Outcome out;
  client->submit(greedy(32), out.on_token(), out.on_done());
  ASSERT_TRUE(out.wait_done());
  EXPECT_EQ(out.done->stop_reason, engine::StopReason::Length);
  EXPECT_EQ(out.done->tokens, kReference);
  ASSERT_EQ(out.tokens.size(), kReference.size());
  std::string joined;
  for (size_t i = 0; i < out.tokens.size(); ++i) {
    EXPECT_EQ(out.tokens[i].index, static_cast<int>(i));
    EXPECT_EQ(out.tokens[i].token, kReference[i]);
    joined += out.tokens[i].text;
  }
  EXPECT_EQ(joined, out.done->text);
  EXPECT_EQ(out.done->text.rfind(" Once upon a time, there was a little girl named Lily.", 0), 0u)
      << out.done->text;
  EXPECT_EQ(client->running(), 0u);
}

TEST(WorkerClient, RequestsAreCheckedBeforeTheyTravel) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  auto client = WorkerClient::start(options(model, 64));
  auto q = greedy(4);
  q.prompt = {1, 512};
  try {
    client->submit(q, {}, {});
    FAIL() << "an out-of-vocabulary token was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("512"), std::string::npos) << e.what();
  }
  q.prompt.assign(static_cast<size_t>(client->shape().n_ctx_seq), 1);  // no room left to answer
  EXPECT_THROW(client->validate(q), Error);
  EXPECT_EQ(client->running(), 0u);
}

TEST(WorkerClient, LoadErrorsComeBackWithTheirKind) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const auto dir = test::temp_dir("worker_load_errors");
  try {
    WorkerClient::start(options(dir / "absent.gguf"));
    FAIL() << "a missing file loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound) << e.what();
  }
  // The first half of a real model: a GGUF header whose tensors are cut off.
  const auto cut = dir / "cut.gguf";
  {
    std::ifstream in(model, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  try {
    WorkerClient::start(options(cut));
    FAIL() << "a truncated file loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadFile) << e.what();
    EXPECT_NE(std::string(e.what()).find("cut.gguf"), std::string::npos) << e.what();
  }
}

TEST(WorkerClient, AKilledWorkerEndsItsRequestsWithUnavailable) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  auto client = WorkerClient::start(options(model, 4096, 2));
  Outcome a, b;
  client->submit(greedy(-1, true), a.on_token(), a.on_done());
  client->submit(greedy(-1, true), b.on_token(), b.on_done());
  ASSERT_TRUE(a.wait_tokens(5));
  ASSERT_FALSE(a.done.has_value()) << "the generation ended before the kill";
  const pid_t pid = client->pid();
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  for (Outcome* o : {&a, &b}) {
    ASSERT_TRUE(o->wait_done());
    EXPECT_EQ(o->done->stop_reason, engine::StopReason::Error);
    EXPECT_EQ(o->done->error_kind, ErrorKind::Unavailable);
    EXPECT_NE(o->done->error.find("SIGKILL"), std::string::npos) << o->done->error;
  }
  EXPECT_FALSE(client->alive());
  EXPECT_EQ(client->exit_cause(), "was killed by SIGKILL (signal 9)");
  EXPECT_TRUE(process_gone(pid));
  try {
    client->submit(greedy(4), {}, {});
    FAIL() << "a dead worker accepted a request";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unavailable);
  }
}

TEST(WorkerClient, CancelEndsOneRequestAndLeavesTheOther) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  auto client = WorkerClient::start(options(model, 2048, 2));
  Outcome a, b;
  const auto id = client->submit(greedy(-1, true), a.on_token(), a.on_done());
  client->submit(greedy(32), b.on_token(), b.on_done());
  ASSERT_TRUE(a.wait_tokens(2));
  client->cancel(id);
  ASSERT_TRUE(a.wait_done());
  ASSERT_TRUE(b.wait_done());
  EXPECT_EQ(a.done->stop_reason, engine::StopReason::Cancelled);
  EXPECT_EQ(b.done->stop_reason, engine::StopReason::Length);
  EXPECT_EQ(b.done->tokens, kReference);
  EXPECT_TRUE(client->alive());
}

TEST(WorkerClient, DroppingTheClientCancelsItsRequestsAndStopsTheWorker) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  auto client = WorkerClient::start(options(model, 4096));
  const pid_t pid = client->pid();
  Outcome a;
  client->submit(greedy(-1, true), a.on_token(), a.on_done());
  ASSERT_TRUE(a.wait_tokens(2));
  client.reset();
  ASSERT_TRUE(a.done.has_value()) << "the request did not end with its client";
  EXPECT_EQ(a.done->stop_reason, engine::StopReason::Cancelled);
  EXPECT_TRUE(process_gone(pid)) << "the worker outlived its client";
}

TEST(WorkerClient, TheLastReferenceMayGoInsideItsOwnCallback) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  // As when an unloaded model's last request ends: on_done drops the client on its reader thread.
  std::shared_ptr<WorkerClient> client = WorkerClient::start(options(model));
  const pid_t pid = client->pid();
  auto holder = std::make_shared<std::shared_ptr<WorkerClient>>(client);
  Outcome a;
  auto done = a.on_done();
  client->submit(greedy(8), {}, [holder, done](const engine::GenerationResult& r) {
    holder->reset();
    done(r);
  });
  client.reset();  // the callback's copy is now the last
  ASSERT_TRUE(a.wait_done());
  EXPECT_EQ(a.done->stop_reason, engine::StopReason::Length);
  for (int i = 0; i < 300 && !process_gone(pid); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(process_gone(pid));
}

}  // namespace
}  // namespace rmm::worker
