#pragma once
// What the server tests share: a suite fixture that runs one `rmm serve` on the
// shared stories260K model, the independent expected texts from `rmm run`, and
// checks of OpenAI's error shape and of the event-stream framing.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace rmm::test {

inline constexpr const char* kModelFile = "stories260K.gguf";
// The registry's short name of kModelFile: the one id the server shows for it.
inline constexpr const char* kModelId = "stories260k:f32";

// `--model MODEL --host 127.0.0.1 --port 0 -t 1` followed by `extra`.
std::vector<std::string> serve_args(const std::filesystem::path& model,
                                    const std::vector<std::string>& extra);

// What `rmm run MODEL PROMPT --raw -t 1 ARGS...` prints: the reference a
// server answer must equal (the CLI is checked against llama-completion).
std::string cli_text(const std::filesystem::path& model, const std::string& prompt,
                     const std::vector<std::string>& args);
// The greedy continuation of `prompt` in n tokens.
std::string cli_greedy(const std::filesystem::path& model, const std::string& prompt, int n);
// A one-user-message conversation in ChatML, llama.cpp's fallback when a model has no template.
std::string chatml_user(const std::string& text);

// Checks an error answer: the status, a JSON body of OpenAI's shape
// {"error":{"message":string,"type":string,"param":string|null,"code":string|number|null}}.
void expect_openai_error(const HttpResponse& r, int status);
// True when the error names `field` in `param` or in its message.
bool error_names(const HttpResponse& r, const std::string& field);

// The JSON payloads of a whole event stream, `[DONE]` excluded, checking the
// framing on the way: each event is one `data: ` line then a blank line, and
// the stream ends with exactly one `data: [DONE]\n\n`. Problems are recorded
// with ADD_FAILURE so that a test reports all of them.
std::vector<nlohmann::json> read_sse_payloads(SseStream& stream);

// One server per suite: --parallel 4 --ctx-size 2048 --queue 64 --max-body 65536.
class ServerSuite : public ::testing::Test {
 protected:
  static constexpr int kMaxBody = 65536;

  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;  // skips when the model is absent, fails when the server did not start

  static int port() { return server_->port(); }
  static const std::filesystem::path& model() { return model_; }
  static ServerProcess& server() { return *server_; }

  static nlohmann::json completion(const nlohmann::json& extra);  // POST /v1/completions, expects 200
  static nlohmann::json chat(const nlohmann::json& extra);        // POST /v1/chat/completions, expects 200

 private:
  static std::unique_ptr<ServerProcess> server_;
  static std::string start_error_;
  static std::filesystem::path model_;
};

}  // namespace rmm::test
