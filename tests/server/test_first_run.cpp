// What a new user meets first with `rmm serve` (issue 12): the model named at
// start stays and serves requests that name none, a conversation gets the
// model's trained context, new files show up at once, a model without a chat
// template is marked, `suffix` fills in the middle, and wrong files or fields
// get 400s that say what is wrong. Each test runs its own server.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "models/memory_planner.hpp"
#include "server_fixture.hpp"
#include "support/http_client.hpp"
#include "support/test_env.hpp"

namespace rmm::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

const char* kOther = "TinyStories-656K-Q8_0";
const char* kOtherId = "tinystories-656k:q8_0";  // its registry short name: the id the server shows

class FirstRun : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = shared_model(kModelFile);
    other_ = shared_model(std::string(kOther) + ".gguf");
    if (model_.empty() || other_.empty())
      GTEST_SKIP() << "shared models are absent in " << shared_models_dir();
    dir_ = temp_dir("first_run");
  }
  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "server output:\n" << server_->output() << "\n";
  }
  // `rmm serve` on the models dir `dir_`, with --model `model_` (outside that dir) unless `with_model` is
  // false.
  void start(std::vector<std::string> extra, bool with_model = true) {
    std::vector<std::string> args = {"--host", "127.0.0.1", "--port",       "0",
                                     "-t",     "1",         "--models-dir", dir_.string()};
    if (with_model) args.insert(args.end(), {"--model", model_.string()});
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(args);
  }
  int port() const { return server_->port(); }
  HttpResponse complete(const json& extra) {
    json body = {{"prompt", "Once upon a time"}, {"max_tokens", 3}, {"temperature", 0}};
    body.update(extra);
    return http_post_json(port(), "/v1/completions", body);
  }
  std::vector<std::string> loaded_ids() {
    std::vector<std::string> ids;
    const json j = http_get(port(), "/api/models/loaded").json();
    for (const auto& m : j["models"]) ids.push_back(m["id"].get<std::string>());
    return ids;
  }
  json loaded(const std::string& id) {
    const json j = http_get(port(), "/api/models/loaded").json();
    for (const auto& m : j["models"])
      if (m["id"] == id) return m;
    return nullptr;
  }
  // A prompt of about `tokens` tokens for the stories models (each "Once upon a time. " is 5-6 tokens).
  static std::string long_prompt(int tokens) {
    std::string p;
    for (int i = 0; i < tokens / 5; ++i) p += "Once upon a time. ";
    return p;
  }

  std::filesystem::path model_, other_, dir_;
  std::unique_ptr<ServerProcess> server_;
};

// Item 1: llama-server and LM Studio keep the model they were started with.
TEST_F(FirstRun, TheModelNamedAtStartStaysAndServesRequestsThatNameNone) {
  std::filesystem::copy_file(other_, dir_ / (std::string(kOther) + ".gguf"));
  start({"--keep-alive", "1s", "--parallel", "1"});
  std::this_thread::sleep_for(2500ms);  // well past the keep-alive
  EXPECT_EQ(loaded_ids(), std::vector<std::string>{kModelId});
  auto r = complete(json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["model"], kModelId);

  // Another model loaded (and used last): a request without a model still gets the one named at start.
  ASSERT_EQ(complete({{"model", kOther}}).status, 200);
  r = complete(json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["model"], kModelId);

  // Unloaded by hand, it comes back on the next request, by its name or by none, although its
  // file lies outside the models dir (where a request may not name paths).
  ASSERT_EQ(http_post_json(port(), "/api/models/unload", {{"model", kModelId}}).status, 200);
  EXPECT_TRUE(loaded(kModelId).is_null());
  r = complete({{"model", kModelId}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(http_post_json(port(), "/api/models/unload", {{"model", kModelId}}).status, 200);
  r = complete(json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["model"], kModelId);
  EXPECT_EQ(loaded(kModelId)["pinned"], true);

  // Its file name and stem still name it, although the server shows it by its short name.
  for (const char* name : {kModelFile, "stories260K"}) {
    r = complete({{"model", name}});
    ASSERT_EQ(r.status, 200) << name << ": " << r.body;
    EXPECT_EQ(r.json()["model"], kModelId) << name;
  }
  // Like every model, it is in the registry's list by that name.
  bool listed = false;
  const json all = http_get(port(), "/api/models").json();  // kept: a loop over a temporary would dangle
  for (const auto& m : all["models"]) listed |= m["id"] == kModelId;
  EXPECT_TRUE(listed);
}

TEST_F(FirstRun, NoPinLetsTheModelNamedAtStartExpireAndItStillComesBack) {
  start({"--keep-alive", "1s", "--parallel", "1", "--no-pin"});
  for (int i = 0; i < 50 && !loaded_ids().empty(); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(loaded_ids().empty());
  const auto r = complete(json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["model"], kModelId);
}

TEST_F(FirstRun, ARequestThatNamesNoModelIsToldWhichExist) {
  std::filesystem::copy_file(model_, dir_ / kModelFile);
  std::filesystem::copy_file(other_, dir_ / (std::string(kOther) + ".gguf"));
  start({"--parallel", "1"}, false);
  auto r = complete(json::object());
  expect_openai_error(r, 400);
  EXPECT_EQ(r.json()["error"]["param"], "model");
  const std::string none = r.json()["error"]["message"];
  EXPECT_NE(none.find(kModelId), std::string::npos) << none;
  EXPECT_NE(none.find(kOtherId), std::string::npos) << none;

  // One model loaded: it is the one.
  ASSERT_EQ(complete({{"model", kModelId}}).status, 200);
  r = complete(json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["model"], kModelId);

  // Two loaded: the request must choose, and is told between which.
  ASSERT_EQ(complete({{"model", kOther}}).status, 200);
  r = complete(json::object());
  expect_openai_error(r, 400);
  const std::string two = r.json()["error"]["message"];
  EXPECT_NE(two.find("2 are loaded"), std::string::npos) << two;
  EXPECT_NE(two.find(kModelId), std::string::npos) << two;
}

// Item 2: 4 slots used to share the default 2048 cells: 512 tokens per chat.
TEST_F(FirstRun, EachConversationGetsTheTrainedContext) {
  start({});  // --parallel 4 by default, no -c
  const json m = loaded(kModelId);
  ASSERT_FALSE(m.is_null());
  EXPECT_EQ(m["slots"], 4);
  EXPECT_EQ(m["context_per_slot"], 2048);  // stories260K's training context
  const auto r = complete({{"prompt", long_prompt(1500)}, {"max_tokens", 1}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GT(r.json()["usage"]["prompt_tokens"].get<int>(), 1000);
}

TEST_F(FirstRun, APromptTooLongSaysHowToFitItAndNumCtxMakesRoom) {
  start({"--parallel", "2", "--ctx-size", "1024"});  // 512 tokens per conversation
  auto r = complete({{"prompt", long_prompt(700)}, {"max_tokens", 1}});
  expect_openai_error(r, 400);
  EXPECT_EQ(r.json()["error"]["code"], "context_length_exceeded");
  const std::string msg = r.json()["error"]["message"];
  for (const char* hint : {"holds 512", "trained on 2048", "num_ctx", "-c", "--parallel"})
    EXPECT_NE(msg.find(hint), std::string::npos) << hint << " in: " << msg;

  // The same request asking for 1024 tokens per conversation: the idle model is reloaded with them.
  r = complete({{"prompt", long_prompt(700)}, {"max_tokens", 1}, {"num_ctx", 1024}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(loaded(kModelId)["context_per_slot"], 1024);
  EXPECT_EQ(loaded(kModelId)["slots"], 2);

  // More than the model was trained on is refused, and the model stays loaded as it is.
  r = complete({{"num_ctx", 4096}});
  expect_openai_error(r, 400);
  EXPECT_EQ(r.json()["error"]["param"], "num_ctx");
  EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("2048"), std::string::npos) << r.body;
  EXPECT_EQ(loaded(kModelId)["context_per_slot"], 1024);
  for (const auto& bad : {json("big"), json(0), json(1.5)}) {
    r = complete({{"num_ctx", bad}});
    expect_openai_error(r, 400);
    EXPECT_EQ(r.json()["error"]["param"], "num_ctx") << r.body;
  }
}

// "On a GPU choose the slots from free memory": with too little room for 4
// slots of 2048 tokens, fewer slots keep the full context.
TEST_F(FirstRun, FewerSlotsWhenMemoryIsShort) {
  auto need = [&](int slots) {
    models::PlanRequest req;
    req.params.n_ctx = static_cast<uint32_t>(2048 * slots);
    req.params.n_seq = static_cast<uint32_t>(slots);
    req.params.n_batch = 2048;
    req.params.n_ubatch = 512;
    req.params.flash_attn = true;  // flash attention "auto"
    return models::plan_memory(model_, req, {{"CPU", false, 1ull << 40}}).total();
  };
  const uint64_t two = need(2), three = need(3);
  ASSERT_LT(two, three);
  start({"--max-memory", std::to_string(two + (three - two) / 2)});
  const json m = loaded(kModelId);
  ASSERT_FALSE(m.is_null()) << server_->output();
  EXPECT_EQ(m["slots"], 2);
  EXPECT_EQ(m["context_per_slot"], 2048);
}

// Item 3: the UI lists models as they arrive in the folder.
TEST_F(FirstRun, AFileCopiedIntoTheModelsDirIsListedAtOnce) {
  start({"--parallel", "1"}, false);
  auto names = [&] {
    std::vector<std::string> out;
    const json j = http_get(port(), "/api/models").json();
    for (const auto& m : j["models"]) out.push_back(m["id"].get<std::string>());
    return out;
  };
  EXPECT_TRUE(names().empty());
  std::filesystem::copy_file(other_, dir_ / (std::string(kOther) + ".gguf"));
  EXPECT_EQ(names(), std::vector<std::string>{kOtherId});
  std::filesystem::remove(dir_ / (std::string(kOther) + ".gguf"));
  EXPECT_TRUE(names().empty());
}

// Issue 11: Open WebUI and Continue show an empty picker when /v1/models lists only loaded models.
TEST_F(FirstRun, ModelsListsEveryModelItCanServeAndRetrievesOne) {
  std::filesystem::copy_file(model_, dir_ / kModelFile);
  const auto nested = dir_ / "someone" / "Tiny-GGUF";
  std::filesystem::create_directories(nested);
  std::filesystem::copy_file(other_, nested / (std::string(kOther) + ".gguf"));
  std::ofstream(dir_ / "weights.safetensors") << "x";  // not servable: not listed
  start({"--parallel", "1"}, false);
  auto models = [&] {
    std::map<std::string, bool> out;
    const json j = http_get(port(), "/v1/models").json();
    for (const auto& m : j["data"]) {
      EXPECT_EQ(m["object"], "model");
      out[m["id"].get<std::string>()] = m["loaded"].get<bool>();
    }
    return out;
  };
  EXPECT_EQ(models(), (std::map<std::string, bool>{{kModelId, false}, {kOtherId, false}}));
  ASSERT_EQ(complete({{"model", kOther}}).status, 200);
  EXPECT_EQ(models(), (std::map<std::string, bool>{{kModelId, false}, {kOtherId, true}}));

  auto one = http_get(port(), std::string("/v1/models/") + kModelId);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.json()["id"], kModelId);
  EXPECT_EQ(one.json()["loaded"], false);
  expect_openai_error(http_get(port(), "/v1/models/nothing-here"), 404);
  // The nested pull's metadata by name, as any route resolves it.
  auto info = http_get(port(), std::string("/api/models/") + kOther + "/info");
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(info.json()["context_length"], 512);  // shared models README
}

// Item 5: stories260K has no chat template, so its chats are ChatML.
TEST_F(FirstRun, AModelWithoutAChatTemplateIsMarkedAndLogged) {
  std::filesystem::copy_file(model_, dir_ / kModelFile);
  start({"--parallel", "1"}, false);
  ASSERT_EQ(
      http_post_json(
          port(), "/v1/chat/completions",
          {{"model", kModelId}, {"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 2}})
          .status,
      200);
  const json j = http_get(port(), "/api/models").json();
  ASSERT_EQ(j["models"].size(), 1u);
  EXPECT_EQ(j["models"][0]["chat_template_fallback"], "chatml");
  EXPECT_TRUE(server_->wait_for_output("has no chat template: chats use ChatML", 5s)) << server_->output();
}

// Item 6: Continue's autocomplete sends "suffix". StarCoder's vocabulary has
// <fim_prefix>, <fim_suffix> and <fim_middle>; its FIM prompt, written out by
// hand from StarCoder's documented format, must give the same answer.
TEST_F(FirstRun, SuffixFillsInTheMiddleWithTheModelsTokens) {
  forge_model(dir_, "coder", {"--vocab", "starcoder", "--seed", "3"});
  start({"--parallel", "1", "--ctx-size", "512"}, false);
  const std::string prefix = "def add(a, b):\n    return ", suffix = "\n\nprint(add(1, 2))\n";
  auto fim = complete({{"model", "coder"}, {"prompt", prefix}, {"suffix", suffix}, {"max_tokens", 8}});
  ASSERT_EQ(fim.status, 200) << fim.body;
  auto by_hand = complete({{"model", "coder"},
                           {"prompt", "<fim_prefix>" + prefix + "<fim_suffix>" + suffix + "<fim_middle>"},
                           {"max_tokens", 8}});
  ASSERT_EQ(by_hand.status, 200) << by_hand.body;
  EXPECT_EQ(fim.json()["usage"]["prompt_tokens"], by_hand.json()["usage"]["prompt_tokens"]);
  EXPECT_EQ(fim.json()["choices"][0]["text"], by_hand.json()["choices"][0]["text"]);
}

TEST_F(FirstRun, SuffixOnAModelWithoutFillInTheMiddleIsA400) {
  start({"--parallel", "1"});
  auto r = complete({{"suffix", "The end."}});
  expect_openai_error(r, 400);
  EXPECT_EQ(r.json()["error"]["param"], "suffix");
  EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("fill-in-the-middle"), std::string::npos);
  EXPECT_EQ(complete({{"suffix", 5}}).status, 400);
  // An empty suffix asks for nothing in the middle: a plain completion.
  EXPECT_EQ(complete({{"suffix", ""}}).status, 200);
}

// Item 10.
TEST_F(FirstRun, SafetensorsNamedInARequestNeedConversion) {
  std::ofstream(dir_ / "weights.safetensors") << std::string(64, '\0');
  start({"--parallel", "1"});
  for (const std::string& name :
       std::vector<std::string>{"weights.safetensors", (dir_ / "weights.safetensors").string()}) {
    auto r = complete({{"model", name}});
    expect_openai_error(r, 400);
    EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("conversion to GGUF"), std::string::npos)
        << r.body;
  }
}

TEST_F(FirstRun, ToolsTheModelCannotShowAreA400NamingTools) {
  start({"--parallel", "1"});
  const json tool = {{"type", "function"},
                     {"function", {{"name", "get_time"}, {"parameters", {{"type", "object"}}}}}};
  const auto r = http_post_json(port(), "/v1/chat/completions",
                                {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"tools", {tool}}});
  expect_openai_error(r, 400);
  EXPECT_EQ(r.json()["error"]["param"], "tools") << r.body;
}

}  // namespace
}  // namespace rmm::test
