#pragma once
// What the WebSocket tests share: a `rmm serve` child on the shared tiny model
// (ctest runs each test in its own process, so each test starts its own), the
// `rmm run` reference texts, and message builders.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/server_process.hpp"
#include "ws_client.hpp"

namespace rmm::test {

class WsTest : public ::testing::Test {
 protected:
  void SetUp() override;
  // Starts (once per test) `rmm serve --model stories260K.gguf --port 0 -t 1 --parallel N`.
  ServerProcess& server(int parallel = 4);
  std::unique_ptr<WsClient> connect(WsClient::Options options = {});

  // What `rmm run MODEL PROMPT --raw --temp 0 -n N -t 1 EXTRA...` prints: the independent reference.
  std::string cli_text(const std::string& prompt, int n, const std::vector<std::string>& extra = {});

  static json generate(const std::string& id, const std::string& prompt, int max_tokens,
                       int alternatives = 0);
  // Reads until the complete message of `id`.
  static std::vector<json> until_complete(WsClient& c, const std::string& id,
                                          std::chrono::milliseconds timeout = 15s);
  static std::vector<json> until_error(WsClient& c, std::chrono::milliseconds timeout = 10s);
  // The token texts of `id`, joined, after checking that their indexes run 0..N-1 in order.
  static std::string joined_text(const std::vector<json>& messages, const std::string& id);

  std::filesystem::path model_;
  std::filesystem::path models_dir_;  // the server's --models-dir (empty but for what a test puts there)

 private:
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace rmm::test
