#include "server_fixture.hpp"

#include <regex>
#include <stdexcept>

#include "core/subprocess.hpp"
#include "support/test_env.hpp"

namespace rmm::test {

std::unique_ptr<ServerProcess> ServerSuite::server_;
std::string ServerSuite::start_error_;
std::filesystem::path ServerSuite::model_;

std::vector<std::string> serve_args(const std::filesystem::path& model,
                                    const std::vector<std::string>& extra) {
  std::vector<std::string> args{"--model", model.string(), "--host", "127.0.0.1", "--port", "0", "-t", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string cli_text(const std::filesystem::path& model, const std::string& prompt,
                     const std::vector<std::string>& args) {
  std::vector<std::string> argv{rmm_binary().string(), "run", model.string(), prompt, "--raw", "-t", "1"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = rmm::run_process(argv);
  if (r.exit_code != 0)
    throw std::runtime_error("rmm run failed (" + std::to_string(r.exit_code) + "): " + r.err);
  return r.out;
}

std::string cli_greedy(const std::filesystem::path& model, const std::string& prompt, int n) {
  return cli_text(model, prompt, {"--temp", "0", "-n", std::to_string(n)});
}

std::string chatml_user(const std::string& text) {
  return "<|im_start|>user\n" + text + "<|im_end|>\n<|im_start|>assistant\n";
}

void expect_openai_error(const HttpResponse& r, int status) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_NE(r.header("Content-Type").find("application/json"), std::string::npos)
      << "Content-Type: " << r.header("Content-Type");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(r.body);
  } catch (const nlohmann::json::exception& e) {
    ADD_FAILURE() << "error body is not JSON: " << r.body;
    return;
  }
  ASSERT_TRUE(j.is_object() && j.contains("error") && j["error"].is_object()) << r.body;
  const auto& e = j["error"];
  EXPECT_TRUE(e.contains("message") && e["message"].is_string() && !e["message"].get<std::string>().empty())
      << r.body;
  EXPECT_TRUE(e.contains("type") && e["type"].is_string()) << r.body;
  EXPECT_TRUE(e.contains("param") && (e["param"].is_null() || e["param"].is_string())) << r.body;
  EXPECT_TRUE(e.contains("code") && (e["code"].is_null() || e["code"].is_string() || e["code"].is_number()))
      << r.body;
}

bool error_names(const HttpResponse& r, const std::string& field) {
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("error")) return false;
  const auto& e = j["error"];
  // The field as a word ("n" must not match inside "tokens"); param may be a path like messages[0].role.
  const std::regex word("(^|[^A-Za-z0-9_])" + field + "([^A-Za-z0-9_]|$)");
  for (const char* key : {"param", "message"}) {
    if (e.contains(key) && e[key].is_string() && std::regex_search(e[key].get<std::string>(), word))
      return true;
  }
  return false;
}

std::vector<nlohmann::json> read_sse_payloads(SseStream& stream) {
  std::vector<nlohmann::json> payloads;
  int done = 0;
  while (auto event = stream.next_event()) {
    if (done > 0) {
      ADD_FAILURE() << "event after [DONE]: " << *event;
    }
    if (event->rfind("data: ", 0) != 0) {
      ADD_FAILURE() << "event does not start with 'data: ': " << *event;
      continue;
    }
    if (event->find('\n') != std::string::npos) {
      ADD_FAILURE() << "event has more than one line: " << *event;
    }
    const std::string data = event->substr(6);
    if (data == "[DONE]") {
      ++done;
      continue;
    }
    try {
      payloads.push_back(nlohmann::json::parse(data));
    } catch (const nlohmann::json::exception& e) {
      ADD_FAILURE() << "event payload is not JSON: " << data;
    }
  }
  EXPECT_EQ(done, 1) << "the stream must end with exactly one data: [DONE]";
  const std::string tail = "data: [DONE]\n\n";
  const auto& raw = stream.raw();
  EXPECT_TRUE(raw.size() >= tail.size() && raw.compare(raw.size() - tail.size(), tail.size(), tail) == 0)
      << "stream tail: " << raw.substr(raw.size() > 200 ? raw.size() - 200 : 0);
  return payloads;
}

void ServerSuite::SetUpTestSuite() {
  start_error_.clear();
  model_ = shared_model(kModelFile);
  if (model_.empty()) return;
  try {
    server_ = std::make_unique<ServerProcess>(serve_args(
        model_,
        {"--parallel", "4", "--ctx-size", "2048", "--queue", "64", "--max-body", std::to_string(kMaxBody)}));
  } catch (const std::exception& e) {
    start_error_ = e.what();
  }
}

void ServerSuite::TearDownTestSuite() { server_.reset(); }

void ServerSuite::SetUp() {
  if (model_.empty())
    GTEST_SKIP() << "shared model " << kModelFile << " is absent in " << shared_models_dir();
  ASSERT_TRUE(server_) << "rmm serve did not start: " << start_error_;
  ASSERT_TRUE(server_->running()) << "rmm serve died:\n" << server_->output();
}

namespace {

nlohmann::json post_ok(int port, const std::string& target, nlohmann::json body) {
  if (!body.contains("model")) body["model"] = kModelId;
  auto r = http_post_json(port, target, body);
  if (r.status != 200) {
    throw std::runtime_error("POST " + target + " " + body.dump() + " -> " + std::to_string(r.status) + " " +
                             r.body);
  }
  return r.json();
}

}  // namespace

nlohmann::json ServerSuite::completion(const nlohmann::json& extra) {
  return post_ok(port(), "/v1/completions", extra);
}

nlohmann::json ServerSuite::chat(const nlohmann::json& extra) {
  return post_ok(port(), "/v1/chat/completions", extra);
}

}  // namespace rmm::test
