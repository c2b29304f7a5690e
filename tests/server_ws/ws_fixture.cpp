#include "ws_fixture.hpp"

#include <cstdlib>

#include "core/subprocess.hpp"
#include "support/test_env.hpp"

namespace rmm::test {

void WsTest::SetUp() {
  model_ = shared_model("stories260K.gguf");
  if (model_.empty()) GTEST_SKIP() << "shared model stories260K.gguf is absent in " << shared_models_dir();
  // Keep the user's config.toml and models out of the server's way.
  ::setenv("RMM_HOME", temp_dir("ws-home").c_str(), 1);
}

ServerProcess& WsTest::server(int parallel) {
  if (!server_) {
    models_dir_ = temp_dir("ws-models");
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--model", model_.string(), "--port", "0", "-t", "1", "--parallel",
                                 std::to_string(parallel), "--models-dir", models_dir_.string()});
  }
  return *server_;
}

std::unique_ptr<WsClient> WsTest::connect(WsClient::Options options) {
  auto& s = server();
  return std::make_unique<WsClient>(s.host(), s.port(), options);
}

std::string WsTest::cli_text(const std::string& prompt, int n, const std::vector<std::string>& extra) {
  std::vector<std::string> argv{rmm_binary().string(),
                                "run",
                                model_.string(),
                                prompt,
                                "--temp",
                                "0",
                                "-n",
                                std::to_string(n),
                                "-t",
                                "1"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const auto r = run_process(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

json WsTest::generate(const std::string& id, const std::string& prompt, int max_tokens, int alternatives) {
  return {{"type", "generate"},
          {"id", id},
          {"prompt", prompt},
          {"params", {{"temperature", 0}, {"max_tokens", max_tokens}}},
          {"alternatives", alternatives}};
}

std::vector<json> WsTest::until_complete(WsClient& c, const std::string& id,
                                         std::chrono::milliseconds timeout) {
  return c.until([&](const json& m) { return m.value("type", "") == "complete" && m.value("id", "") == id; },
                 timeout);
}

std::vector<json> WsTest::until_error(WsClient& c, std::chrono::milliseconds timeout) {
  return c.until([](const json& m) { return m.value("type", "") == "error"; }, timeout);
}

std::string WsTest::joined_text(const std::vector<json>& messages, const std::string& id) {
  std::string text;
  int expected = 0;
  for (const auto& t : of_type(messages, "token", id)) {
    EXPECT_EQ(t["index"].get<int>(), expected) << t.dump();
    ++expected;
    text += t["text"].get<std::string>();
  }
  return text;
}

}  // namespace rmm::test
