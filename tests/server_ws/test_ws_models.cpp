// Several models over one WebSocket: loads of different models run side by
// side (neither answers "busy"), a second load of a model that is loading
// joins that load, and a generation on one model streams on while another
// loads. Models are forged (`rmm forge`): a tiny one and one big enough that
// its load takes a few hundred ms here.
#include <gtest/gtest.h>

#include <iostream>
#include <set>

#include "core/subprocess.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"
#include "ws_client.hpp"

namespace rmm::test {
namespace {

bool is(const json& m, const std::string& type, const std::string& id) {
  return m.value("type", "") == type && m.value("id", "") == id;
}

class WsModels : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("ws_models");
    forge_model(dir_, "small", {"--seed", "1"});
    forge_model(dir_, "big", {"--seed", "2", "--layers", "24", "--embd", "512", "--ffn", "2048"});
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{
        "--host", "127.0.0.1", "--port", "0", "-t", "1", "--models-dir", dir_.string(), "--parallel", "1",
        "--ctx-size", "2048", "--batch-size", "32", "--ubatch-size", "32"});
    client_ = std::make_unique<WsClient>(server_->host(), server_->port());
  }

  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "server output:\n" << server_->output() << "\n";
  }

  static json load(const std::string& model, const std::string& id) {
    return {{"type", "load"}, {"model", model}, {"id", id}};
  }

  json loaded() { return http_get(server_->port(), "/api/models/loaded").json(); }

  std::filesystem::path dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<WsClient> client_;
};

TEST_F(WsModels, LoadsOfTwoModelsOnOneSocketBothCompleteAndASecondLoadJoinsTheFirst) {
  auto& c = *client_;
  c.send(load("big", "b1"));
  c.send(load("small", "s"));
  c.send(load("big", "b2"));  // big is loading: this one waits for that load
  std::vector<std::string> completed;
  const auto msgs = c.until(
      [&](const json& m) {
        if (m.value("type", "") == "error") return true;
        if (m.value("type", "") == "load_complete") completed.push_back(m.value("id", ""));
        return completed.size() == 3;
      },
      30s);
  ASSERT_EQ(completed.size(), 3u) << msgs.back().dump();
  // Which completes first says little: the tiny model's context setup takes about as long as the big weights.
  EXPECT_EQ(std::set<std::string>(completed.begin(), completed.end()),
            (std::set<std::string>{"b1", "b2", "s"}));
  for (const auto& m : msgs) {
    if (m.value("type", "") != "load_complete") continue;
    EXPECT_EQ(m["metadata"]["id"], m["id"] == "s" ? "small:q8_0" : "big:q8_0") << m.dump();  // short names
  }
  const json l = loaded();
  EXPECT_EQ(l["loads_started"], 2) << l.dump();
  EXPECT_EQ(l["models"].size(), 2u) << l.dump();
}

TEST_F(WsModels, AGenerationOnOneModelStreamsWhileAnotherLoads) {
  auto& c = *client_;
  c.send(load("small", "s"));
  c.until([](const json& m) { return is(m, "load_complete", "s") || m.value("type", "") == "error"; });
  // Greedy on the forged model does not reach end-of-text within this many tokens.
  c.send({{"type", "generate"},
          {"id", "g"},
          {"model", "small"},
          {"prompt", "Once"},
          {"params", {{"temperature", 0}, {"max_tokens", 1800}}}});
  size_t before = 0;
  c.until([&](const json& m) { return is(m, "token", "g") && ++before == 5; });

  c.send(load("big", "b"));
  const auto during = c.until(
      [](const json& m) {
        return is(m, "load_complete", "b") || m.value("type", "") == "error" || is(m, "complete", "g");
      },
      30s);
  ASSERT_TRUE(is(during.back(), "load_complete", "b")) << during.back().dump();
  const auto tokens = of_type(during, "token", "g");
  double longest_gap = 0;
  for (size_t i = 1; i < tokens.size(); ++i)
    longest_gap =
        std::max(longest_gap, tokens[i]["t_ms"].get<double>() - tokens[i - 1]["t_ms"].get<double>());
  std::cout << tokens.size() << " tokens of small while big loaded; longest gap " << longest_gap << " ms\n";
  EXPECT_GE(tokens.size(), 3u) << "the generation stalled while the other model loaded";

  // Generating on the new model works too, and the first generation is still there to stop.
  c.send({{"type", "generate"},
          {"id", "h"},
          {"model", "big"},
          {"prompt", "Once"},
          {"params", {{"temperature", 0}, {"max_tokens", 2}}}});
  c.send({{"type", "stop"}, {"id", "g"}});
  bool g_done = false, h_done = false;
  const auto rest = c.until(
      [&](const json& m) {
        g_done = g_done || is(m, "complete", "g");
        h_done = h_done || is(m, "complete", "h");
        return (g_done && h_done) || m.value("type", "") == "error";
      },
      30s);
  EXPECT_TRUE(g_done && h_done) << rest.back().dump();
}

}  // namespace
}  // namespace rmm::test
