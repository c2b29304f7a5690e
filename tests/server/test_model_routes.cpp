// The model library over HTTP and `rmm ps`: GET /api/models from the
// registry (nested pulled models included, use counts), DELETE
// /api/models/{name} (idle, busy, unknown, path-like names), and `rmm ps`
// with and without a server. Models are forged tiny llama models.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/subprocess.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

namespace rmm::test {
namespace {

using json = nlohmann::json;

std::filesystem::path forge(const std::filesystem::path& out, int seed) {
  std::filesystem::create_directories(out.parent_path());
  const auto r = run_process(
      {rmm_binary().string(), "forge", out.string(), "--seed", std::to_string(seed), "--threads", "1"});
  if (r.exit_code != 0) throw std::runtime_error("rmm forge failed: " + r.err);
  return out;
}

class ModelRoutes : public ::testing::Test {
 protected:
  // A context of 2048 keeps the busy test's stream running for a second or two.
  void SetUp() override {
    dir_ = temp_dir("model_routes");
    flat_ = forge(dir_ / "m1.gguf", 1);
    nested_ = forge(dir_ / "owner" / "repo" / "nested.gguf", 2);
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{
        "--host", "127.0.0.1", "--port", "0", "-t", "1", "--models-dir", dir_.string(), "--parallel", "1",
        "--ctx-size", "2048", "--batch-size", "32", "--ubatch-size", "32"});
  }
  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "server output:\n" << server_->output() << "\n";
  }

  // A fresh generation every time: a registered model is hashed at start, so a repeat would be a
  // cache hit, which runs no model (and counts no use).
  HttpResponse complete(const std::string& model) {
    return http_post_json(
        server_->port(), "/v1/completions",
        {{"model", model}, {"prompt", "Once"}, {"max_tokens", 3}, {"temperature", 0}, {"cache", false}});
  }
  // The /api/models entry whose id (its registry short name) is `id` (null when not listed).
  json listed(const std::string& id) {
    const auto r = http_get(server_->port(), "/api/models");
    EXPECT_EQ(r.status, 200) << r.body;
    const json all = r.json();
    for (const auto& m : all["models"]) {
      if (m["id"] == id) return m;
    }
    return nullptr;
  }
  HttpResponse remove(const std::string& name) {
    return http_request(server_->port(), "DELETE", "/api/models/" + name);
  }

  std::filesystem::path dir_, flat_, nested_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ModelRoutes, ListsRegistryModelsIncludingNestedOnes) {
  const json flat = listed("m1:q8_0");
  ASSERT_FALSE(flat.is_null());
  const json nested = listed("nested:q8_0");
  ASSERT_FALSE(nested.is_null()) << http_get(server_->port(), "/api/models").body;
  EXPECT_EQ(nested["path"], nested_.string());
  EXPECT_EQ(nested["kind"], "chat") << nested.dump();
  EXPECT_GT(nested["size"].get<int64_t>(), 0);
  EXPECT_TRUE(nested["name"].is_string());
  EXPECT_TRUE(nested["aliases"].is_array());
  EXPECT_TRUE(nested.contains("quantization")) << nested.dump();
  EXPECT_TRUE(nested.contains("parameters")) << nested.dump();
  EXPECT_TRUE(nested.contains("context_length")) << nested.dump();
  EXPECT_FALSE(nested["loaded"].get<bool>());
  ASSERT_EQ(complete("nested").status, 200);
  EXPECT_TRUE(listed("nested:q8_0")["loaded"].get<bool>());
}

TEST_F(ModelRoutes, CountsEachCompletedRequestAsAUse) {
  ASSERT_EQ(complete("m1").status, 200);
  ASSERT_EQ(complete("m1").status, 200);
  // Recorded off the engine thread: poll briefly.
  int64_t uses = 0;
  for (int i = 0; i < 50 && uses < 2; ++i) {
    uses = listed("m1:q8_0")["use_count"].get<int64_t>();
    if (uses < 2) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(uses, 2);
  EXPECT_FALSE(listed("m1:q8_0")["last_used"].is_null());
  EXPECT_EQ(listed("nested:q8_0")["use_count"], 0);
  // Both runs generated several tokens, so each measured a speed (the CPU's: no GPU here).
  const json speeds = listed("m1:q8_0")["speeds"];
  ASSERT_TRUE(speeds.contains("CPU")) << speeds.dump();
  EXPECT_EQ(speeds["CPU"]["runs"], 2) << speeds.dump();
  EXPECT_GT(speeds["CPU"]["generation_tokens_per_second"].get<double>(), 0) << speeds.dump();
  EXPECT_GT(speeds["CPU"]["prompt_tokens_per_second"].get<double>(), 0) << speeds.dump();
  EXPECT_TRUE(listed("nested:q8_0")["speeds"].empty());
}

TEST_F(ModelRoutes, LoadedShowsRecentSpeeds) {
  json recent = http_get(server_->port(), "/api/models/loaded").json()["recent"];
  EXPECT_EQ(recent["window_s"], 60) << recent.dump();
  EXPECT_EQ(recent["requests"], 0) << recent.dump();
  EXPECT_TRUE(recent["generation_tokens_per_second"].is_null()) << recent.dump();
  EXPECT_TRUE(recent["prompt_tokens_per_second"].is_null()) << recent.dump();
  EXPECT_TRUE(recent["time_to_first_token_ms"].is_null()) << recent.dump();

  const auto r = http_post_json(
      server_->port(), "/v1/completions",
      {{"model", "m1"}, {"prompt", "Once upon"}, {"max_tokens", 8}, {"temperature", 0}, {"cache", false}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json usage = r.json()["usage"];
  const int64_t completion = usage["completion_tokens"].get<int64_t>();
  ASSERT_GT(completion, 0) << usage.dump();

  recent = http_get(server_->port(), "/api/models/loaded").json()["recent"];
  ASSERT_GE(recent["requests"].get<int>(), 1) << recent.dump();
  // The only requests in this server's window are the ones made here.
  EXPECT_EQ(recent["generated_tokens"].get<int64_t>(), completion) << recent.dump() << usage.dump();
  EXPECT_EQ(recent["prompt_tokens"].get<int64_t>(), usage["prompt_tokens"].get<int64_t>()) << recent.dump();
  EXPECT_GT(recent["generation_tokens_per_second"].get<double>(), 0) << recent.dump();
  EXPECT_GT(recent["prompt_tokens_per_second"].get<double>(), 0) << recent.dump();
  EXPECT_GT(recent["time_to_first_token_ms"].get<double>(), 0) << recent.dump();
}

TEST_F(ModelRoutes, DeletesAnIdleLoadedModel) {
  ASSERT_EQ(complete("m1").status, 200);
  const auto r = remove("m1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["files"][0], flat_.string());
  EXPECT_FALSE(std::filesystem::exists(flat_));
  EXPECT_TRUE(listed("m1:q8_0").is_null());
  EXPECT_TRUE(http_get(server_->port(), "/api/models/loaded").json()["models"].empty());
  EXPECT_EQ(remove("m1").status, 404);
  EXPECT_TRUE(std::filesystem::exists(nested_));
}

TEST_F(ModelRoutes, DeletesByAPercentEncodedShortName) {
  const std::string name = listed("nested:q8_0")["name"];
  ASSERT_NE(name.find(':'), std::string::npos) << name;
  std::string encoded = name;
  encoded.replace(encoded.find(':'), 1, "%3A");
  const auto r = remove(encoded);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["deleted"], name);
  EXPECT_FALSE(std::filesystem::exists(nested_));
  EXPECT_TRUE(listed("nested:q8_0").is_null());
}

TEST_F(ModelRoutes, RefusesUnknownAndPathLikeNames) {
  EXPECT_EQ(remove("no-such-model").status, 404);
  const auto dots = remove("m1..gguf");
  EXPECT_TRUE(dots.status == 400 || dots.status == 404) << dots.status;
  EXPECT_EQ(remove("owner%2Frepo%2Fnested").status, 400);
  EXPECT_EQ(http_request(server_->port(), "DELETE", "/api/models/owner/repo/nested").status, 404);
  EXPECT_TRUE(std::filesystem::exists(flat_));
  EXPECT_TRUE(std::filesystem::exists(nested_));
}

TEST_F(ModelRoutes, RefusesToDeleteABusyModel) {
  SseStream stream(
      server_->port(), "/v1/completions",
      {{"model", "m1"}, {"prompt", "Once"}, {"max_tokens", 100000}, {"ignore_eos", true}, {"stream", true}});
  ASSERT_EQ(stream.head().status, 200);
  ASSERT_TRUE(stream.next_event().has_value());  // generating now
  const auto r = remove("m1");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("m1"), std::string::npos) << r.body;
  EXPECT_TRUE(std::filesystem::exists(flat_));
  stream.close();
}

TEST(Ps, SaysSoWhenNoServerRuns) {
  const std::string url = "http://127.0.0.1:" + std::to_string(unused_port());
  const auto r = run_process({rmm_binary().string(), "ps", "--url", url});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("no rmm serve at " + url), std::string::npos) << r.err;
}

TEST_F(ModelRoutes, PsShowsTheLoadedModels) {
  const std::string port = std::to_string(server_->port());
  auto r = run_process({rmm_binary().string(), "ps", "--host", "127.0.0.1", "--port", port});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no models loaded"), std::string::npos) << r.out;
  ASSERT_EQ(complete("m1").status, 200);
  r = run_process({rmm_binary().string(), "ps", "--url", "http://127.0.0.1:" + port});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("NAME"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("m1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CPU"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MiB"), std::string::npos) << r.out;
  r = run_process({rmm_binary().string(), "ps", "--url", "http://127.0.0.1:" + port, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j["models"].size(), 1u);
  EXPECT_EQ(j["models"][0]["id"], "m1:q8_0");  // its registry short name
}

}  // namespace
}  // namespace rmm::test
