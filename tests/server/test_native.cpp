// Native model routes: names only, never paths.
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

using namespace rmm::test;

TEST(ServerNative, ModelInfoByNameAndNoOtherFiles) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  ServerProcess s({"--model", model.string(), "--port", "0", "-t", "1", "--models-dir",
                   temp_dir("native-models").string()});
  const auto info = http_get(s.port(), "/api/models/stories260K/info");
  ASSERT_EQ(info.status, 200) << info.body;
  // ../shared/models/README.md: 292,800 parameters, context 2048, all F32.
  EXPECT_EQ(info.json().at("parameters"), 292800);
  EXPECT_EQ(info.json().at("context_length"), 2048);
  for (const char* name : {"README.md", "..", "stories260K.gguf.bak", "%2E%2E"}) {
    const auto r = http_get(s.port(), std::string("/api/models/") + name + "/info");
    EXPECT_EQ(r.status, 404) << name << ": " << r.body;
  }
}

TEST(ServerNative, TokenizeAndDetokenize) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  ServerProcess s({"--model", model.string(), "--port", "0", "-t", "1"});
  // ../shared/models/README.md: greedy from BOS, these 32 ids spell this text (checked against
  // llama-completion in the CLI tests). Detokenizing inverts the tokenizer, which puts a space before
  // the text (SPM): that space goes, as llama.cpp's llama_detokenize does.
  const nlohmann::json ids = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338,
                              401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385};
  const std::string text =
      " Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One";
  for (const char* path : {"/api/detokenize", "/detokenize"}) {
    const auto r = http_post_json(s.port(), path, {{"tokens", ids}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json().at("content"), text.substr(1)) << path;
  }
  // Tokenizing may segment differently from what the model sampled, but it round-trips.
  const auto t = http_post_json(s.port(), "/api/tokenize", {{"content", text}, {"model", "stories260K"}});
  ASSERT_EQ(t.status, 200) << t.body;
  const auto back = http_post_json(s.port(), "/tokenize", {{"content", text}, {"add_special", true}});
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(back.json().at("tokens").at(0), 1) << "BOS first with add_special";
  EXPECT_EQ(back.json().at("tokens").size(), t.json().at("tokens").size() + 1);
  const auto d = http_post_json(s.port(), "/api/detokenize", {{"tokens", t.json().at("tokens")}});
  EXPECT_EQ(d.json().at("content"), text);
  const auto pieces = http_post_json(s.port(), "/api/tokenize", {{"content", "Lily"}, {"with_pieces", true}});
  ASSERT_EQ(pieces.status, 200) << pieces.body;
  std::string joined;
  const auto piece_list = pieces.json();
  for (const auto& p : piece_list.at("tokens")) joined += p.at("piece").get<std::string>();
  EXPECT_EQ(joined, " Lily");  // the pieces themselves keep the SPM space

  // Bad input names the field; an unknown model is a 404.
  EXPECT_EQ(http_post_json(s.port(), "/api/tokenize", {{"content", 5}}).status, 400);
  EXPECT_EQ(http_post_json(s.port(), "/api/tokenize", {{"content", "x"}, {"add_special", "yes"}}).status,
            400);
  EXPECT_EQ(http_post_json(s.port(), "/api/detokenize", {{"tokens", {1, 512}}}).status, 400);
  EXPECT_EQ(http_post_json(s.port(), "/api/detokenize", {{"tokens", {1, -1}}}).status, 400);
  EXPECT_EQ(http_post_json(s.port(), "/api/detokenize", {{"tokens", "1 2"}}).status, 400);
  EXPECT_EQ(http_post_json(s.port(), "/api/tokenize", {{"content", "x"}, {"model", "nope"}}).status, 404);
}
