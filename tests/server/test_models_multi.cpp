// Several models in one `rmm serve`: the memory planner's refusal, LRU
// eviction under a --max-memory budget, pins, keep_alive (TTL, 0, -1) and
// concurrent requests for a model that is loading. Models are forged tiny
// llama models (`rmm forge`), identical in shape, so each plans the same size.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/subprocess.hpp"
#include "models/memory_planner.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

namespace rmm::test {
namespace {

using json = nlohmann::json;

// Small context and batches keep each model a few MiB (the logits of a 32000-token vocabulary dominate).
const std::vector<std::string> kContext = {"--parallel",   "1",  "--ctx-size",    "256",
                                           "--batch-size", "32", "--ubatch-size", "32"};

std::filesystem::path forge(const std::filesystem::path& dir, const std::string& name, int seed) {
  const auto out = dir / (name + ".gguf");
  const auto r = run_process(
      {rmm_binary().string(), "forge", out.string(), "--seed", std::to_string(seed), "--threads", "1"});
  if (r.exit_code != 0) throw std::runtime_error("rmm forge failed: " + r.err);
  return out;
}

// What the planner says one forged model needs with kContext on the CPU.
uint64_t planned_bytes(const std::filesystem::path& model) {
  models::PlanRequest req;
  req.params.n_ctx = 256;
  req.params.n_seq = 1;
  req.params.n_batch = 32;
  req.params.n_ubatch = 32;
  return models::plan_memory(model, req, {{"CPU", false, 1ull << 40}}).total();
}

class MultiModel : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("models_multi");
    for (const char* name : {"m1", "m2", "m3"}) files_.push_back(forge(dir_, name, name[1] - '0'));
    size_ = planned_bytes(files_[0]);
  }

  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "server output:\n" << server_->output() << "\n";
  }

  void start(uint64_t budget, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {
        "--host",       "127.0.0.1",           "--port", "0", "-t", "1", "--models-dir", dir_.string(),
        "--max-memory", std::to_string(budget)};
    args.insert(args.end(), kContext.begin(), kContext.end());
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(args);
  }

  HttpResponse complete(const std::string& model, const json& extra = json::object()) {
    json body = {{"model", model}, {"prompt", "Once"}, {"max_tokens", 3}, {"temperature", 0}};
    body.update(extra);
    return http_post_json(server_->port(), "/v1/completions", body);
  }

  json loaded() { return http_get(server_->port(), "/api/models/loaded").json(); }
  std::set<std::string> loaded_ids() {
    std::set<std::string> ids;
    const json l = loaded();  // kept: a range-for over a temporary's member would dangle
    for (const auto& m : l["models"]) ids.insert(m["id"].get<std::string>());
    return ids;
  }
  // Waits (polling) until `pred` holds for the loaded set; false after `timeout`.
  template <class Pred>
  bool wait_loaded(Pred pred, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (pred(loaded_ids())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return pred(loaded_ids());
  }

  std::filesystem::path dir_;
  std::vector<std::filesystem::path> files_;
  uint64_t size_ = 0;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(MultiModel, RefusesAModelTooBigForTheBudgetNamingNeededAndFree) {
  start(size_ / 2);
  const auto r = complete("m1");
  EXPECT_EQ(r.status, 507) << r.body;
  const std::string message = r.json()["error"]["message"];
  EXPECT_NE(message.find("needs"), std::string::npos) << message;
  EXPECT_NE(message.find("free"), std::string::npos) << message;
  EXPECT_NE(message.find("MiB"), std::string::npos) << message;
  const auto load = http_post_json(server_->port(), "/api/models/load", {{"model", "m1"}});
  EXPECT_EQ(load.status, 507) << load.body;
  EXPECT_TRUE(loaded_ids().empty());
  EXPECT_TRUE(server_->running());
}

TEST_F(MultiModel, EvictsTheLeastRecentlyUsedIdleModel) {
  start(size_ * 5 / 2);  // room for two
  ASSERT_EQ(complete("m1").status, 200);
  ASSERT_EQ(complete("m2").status, 200);
  EXPECT_EQ(loaded_ids(), (std::set<std::string>{"m1:q8_0", "m2:q8_0"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(complete("m1").status, 200);  // m2 is now the least recently used
  const auto r = complete("m3");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(loaded_ids(), (std::set<std::string>{"m1:q8_0", "m3:q8_0"}));
  EXPECT_NE(server_->output().find("evicting m2"), std::string::npos);
  const auto l = loaded();
  EXPECT_EQ(l["loads_started"], 3);
  for (const auto& m : l["models"]) {
    EXPECT_EQ(m["memory"]["total"].get<uint64_t>(), size_) << m.dump();
    EXPECT_EQ(m["slots"], 1);
    EXPECT_GT(m["last_use"].get<double>(), 0);
    EXPECT_FALSE(m["pinned"].get<bool>());
  }
  EXPECT_LE(l["devices"][0]["budget"].get<uint64_t>() - l["devices"][0]["available"].get<uint64_t>(),
            l["devices"][0]["budget"].get<uint64_t>());
}

TEST_F(MultiModel, APinnedModelSurvivesEvictionPressure) {
  start(size_ * 5 / 2);
  const auto load = http_post_json(server_->port(), "/api/models/load", {{"model", "m1"}, {"pin", true}});
  ASSERT_EQ(load.status, 200) << load.body;
  EXPECT_TRUE(load.json()["model"]["pinned"].get<bool>());
  ASSERT_EQ(complete("m2").status, 200);
  ASSERT_EQ(complete("m3").status, 200);  // m1 is older, but pinned: m2 goes
  EXPECT_EQ(loaded_ids(), (std::set<std::string>{"m1:q8_0", "m3:q8_0"}));
  // Unpinned, m1 is the least recently used and goes next.
  ASSERT_EQ(http_post_json(server_->port(), "/api/models/pin", {{"model", "m1"}, {"pin", false}}).status,
            200);
  ASSERT_EQ(complete("m2").status, 200);
  EXPECT_EQ(loaded_ids(), (std::set<std::string>{"m2:q8_0", "m3:q8_0"}));
}

TEST_F(MultiModel, RefusesWhenOnlyPinnedModelsCouldMakeRoom) {
  start(size_ * 3 / 2);  // room for one
  ASSERT_EQ(http_post_json(server_->port(), "/api/models/load", {{"model", "m1"}, {"pin", true}}).status,
            200);
  const auto r = complete("m2");
  EXPECT_EQ(r.status, 507) << r.body;
  EXPECT_NE(r.body.find("m1:q8_0 (pinned)"), std::string::npos) << r.body;
  EXPECT_EQ(loaded_ids(), (std::set<std::string>{"m1:q8_0"}));
}

TEST_F(MultiModel, KeepAliveUnloadsAfterItsTimeZeroAtOnceAndMinusOneNever) {
  start(size_ * 4, {"--keep-alive", "2s"});
  ASSERT_EQ(complete("m1", {{"keep_alive", "1s"}}).status, 200);
  ASSERT_EQ(complete("m2", {{"keep_alive", -1}}).status, 200);
  ASSERT_EQ(complete("m3").status, 200);  // the server's 2s
  const auto l = loaded();
  for (const auto& m : l["models"]) {
    if (m["id"] == "m2:q8_0") {
      EXPECT_TRUE(m["expires_at"].is_null());
    } else {
      EXPECT_TRUE(m["expires_at"].is_number()) << m.dump();
    }
  }
  EXPECT_TRUE(
      wait_loaded([](const auto& ids) { return ids.count("m1:q8_0") == 0; }, std::chrono::seconds(3)));
  EXPECT_TRUE(wait_loaded([](const auto& ids) { return ids == std::set<std::string>{"m2:q8_0"}; },
                          std::chrono::seconds(4)));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(loaded_ids(), (std::set<std::string>{"m2:q8_0"}));
  // 0: answered, then unloaded.
  const auto r = complete("m1", {{"keep_alive", 0}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(
      wait_loaded([](const auto& ids) { return ids.count("m1:q8_0") == 0; }, std::chrono::seconds(2)));
  // Bad values are the caller's error.
  EXPECT_EQ(complete("m2", {{"keep_alive", "soon"}}).status, 400);
  EXPECT_EQ(complete("m2", {{"keep_alive", true}}).status, 400);
  EXPECT_NE(server_->output().find("keep_alive expired"), std::string::npos);
}

TEST_F(MultiModel, ConcurrentRequestsForALoadingModelShareOneLoad) {
  start(size_ * 4, {"--queue", "16"});
  std::vector<std::thread> threads;
  std::vector<int> statuses(6, 0);
  for (size_t i = 0; i < statuses.size(); ++i)
    threads.emplace_back([&, i] { statuses[i] = complete("m1").status; });
  for (auto& t : threads) t.join();
  for (int s : statuses) EXPECT_EQ(s, 200);
  EXPECT_EQ(loaded()["loads_started"], 1);
  EXPECT_EQ(loaded_ids(), (std::set<std::string>{"m1:q8_0"}));
}

TEST_F(MultiModel, UnloadNamesOneModel) {
  start(size_ * 4);
  ASSERT_EQ(complete("m1").status, 200);
  ASSERT_EQ(complete("m2").status, 200);
  const auto r = http_post_json(server_->port(), "/api/models/unload", {{"model", "m1"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(loaded_ids(), (std::set<std::string>{"m2:q8_0"}));
  EXPECT_EQ(http_post_json(server_->port(), "/api/models/unload", {{"model", "m1"}}).status, 404);
}

}  // namespace
}  // namespace rmm::test

namespace rmm::test {
namespace {

// MemTotal from /proc/meminfo, in bytes (0 when unreadable).
uint64_t mem_total() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  while (in >> key >> kib) {
    if (key == "MemTotal:") return kib * 1024;
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

TEST(ModelBudgets, ABudgetAboveWhatTheMachineHasIsCappedByFreeMemory) {
  // --max-memory 1TiB with a context whose KV cache alone is 1.5x this
  // machine's RAM: the budget says yes, free memory says no, and the answer
  // must be a 507 before anything is allocated. (Should the cap ever break,
  // an allocation this far above RAM + swap is refused by the kernel's
  // overcommit heuristic rather than letting the machine run out.)
  const uint64_t ram = mem_total();
  if (ram == 0) GTEST_SKIP() << "no /proc/meminfo";
  const auto dir = temp_dir("budget_cap");
  // 16 layers x (K + V) x 512 x f16 = 32 KiB of KV cache per token.
  forge_model(dir, "wide",
              {"--layers", "16", "--embd", "512", "--heads", "8", "--kv-heads", "8", "--ffn", "512"});
  const uint64_t ctx = std::min<uint64_t>(ram * 3 / 2 / (32 * 1024) + 1, 1u << 24);
  ServerProcess server({"--host", "127.0.0.1", "--port", "0", "-t", "1", "--models-dir", dir.string(),
                        "--parallel", "1", "--ctx-size", std::to_string(ctx), "--max-memory", "1TiB"});
  const auto r = http_post_json(server.port(), "/v1/completions", {{"model", "wide"}, {"prompt", "Once"}});
  EXPECT_EQ(r.status, 507) << r.body;
  const std::string message = r.json()["error"]["message"];
  EXPECT_NE(message.find("CPU needs"), std::string::npos) << message;
  EXPECT_NE(message.find("is free"), std::string::npos) << message;
  EXPECT_EQ(message.find("1024.00 GiB is free"), std::string::npos)
      << "the budget was not capped: " << message;
  EXPECT_TRUE(server.running());
  EXPECT_EQ(http_get(server.port(), "/api/models/loaded").json()["models"].size(), 0u);
}

}  // namespace
}  // namespace rmm::test
