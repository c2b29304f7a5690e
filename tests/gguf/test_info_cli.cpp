// `rmm info` run as a user would: the real binary, its exit codes, its text
// and JSON output, and one-line errors for bad files.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/subprocess.hpp"
#include "gguf_builder.hpp"
#include "support/test_env.hpp"

namespace rmm::test {
namespace {

using nlohmann::json;

ProcessResult rmm(std::vector<std::string> args) {
  args.insert(args.begin(), rmm_binary().string());
  return rmm::run_process(args);
}

TEST(InfoCli, TextSummaryOfAModel) {
  RMM_REQUIRE_SHARED_MODEL(path, "stories260K.gguf");
  const auto r = rmm({"info", path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("architecture:      llama\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parameters:        292.8K (292800)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("context length:    2048\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kv heads:          4\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("file type:         F32 (guessed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("size:              1.13 MiB (1185376 bytes)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("memory estimate (ctx 2048, 1 sequence"), std::string::npos) << r.out;
}

TEST(InfoCli, JsonHasModelFactsMetadataAndTensors) {
  RMM_REQUIRE_SHARED_MODEL(path, "TinyStories-656K-Q8_0.gguf");
  const auto r = rmm({"info", path.string(), "--json", "--tensors"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["architecture"], "llama");
  EXPECT_EQ(j["name"], "Raincandy U TinyStories 656K");
  EXPECT_EQ(j["license"], "apache-2.0");
  EXPECT_EQ(j["n_params"], 656000);
  EXPECT_EQ(j["file_type"], "Q8_0");
  EXPECT_EQ(j["file_type_id"], 7);
  EXPECT_EQ(j["context_length"], 512);
  EXPECT_EQ(j["n_layer"], 2);
  EXPECT_EQ(j["vocab_size"], 2048);
  EXPECT_EQ(j["tied_embeddings"], true);
  EXPECT_EQ(j["n_tensors"], 20);
  EXPECT_TRUE(j["split"].is_null());
  const json& tokens = j["metadata"]["tokenizer.ggml.tokens"];
  EXPECT_EQ(tokens["type"], "string");
  EXPECT_EQ(tokens["count"], 2048);
  EXPECT_EQ(tokens["head"][1], "<|start_story|>");
  EXPECT_EQ(j["metadata"]["tokenizer.ggml.add_bos_token"], true);
  EXPECT_EQ(j["metadata"]["general.file_type"], 7);
  ASSERT_EQ(j["tensors"].size(), 20u);
  const auto embd = std::find_if(j["tensors"].begin(), j["tensors"].end(),
                                 [](const json& t) { return t["name"] == "token_embd.weight"; });
  ASSERT_NE(embd, j["tensors"].end());
  EXPECT_EQ((*embd)["type"], "q8_0");
  EXPECT_EQ((*embd)["shape"], json({128, 2048}));
  EXPECT_EQ((*embd)["n_bytes"], 128 * 2048 / 32 * 34);
  EXPECT_EQ(j["memory"]["n_ctx"], 512);
}

TEST(InfoCli, MemoryEstimateSettings) {
  RMM_REQUIRE_SHARED_MODEL(path, "stories260K.gguf");
  const auto r =
      rmm({"info", path.string(), "--json", "--ctx-size", "1000", "--parallel", "8", "--gpu-layers", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json m = json::parse(r.out)["memory"];
  EXPECT_EQ(m["n_ctx"], 2048);  // per sequence 1000 / 8 padded to 256, times 8
  EXPECT_EQ(m["n_ctx_seq"], 256);
  EXPECT_EQ(m["gpu_layers"], 3);
  // 2 blocks of 5 offloaded: their KV (2 x 4 heads x 8 dims x f16 x 2048 cells) moves to the GPU.
  EXPECT_EQ(m["gpu"]["kv_cache"], 2 * 2 * 4 * 8 * 2 * 2048);
  EXPECT_EQ(m["cpu"]["kv_cache"], 3 * 2 * 4 * 8 * 2 * 2048);
  const auto text = rmm({"info", path.string(), "--gpu-layers", "-1"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("6 GPU layers"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  gpu:"), std::string::npos) << text.out;
}

// stories260K has no chat template: its chats fall back to ChatML, which rmm info says.
TEST(InfoCli, AModelWithoutAChatTemplateSaysChatsUseChatml) {
  RMM_REQUIRE_SHARED_MODEL(path, "stories260K.gguf");
  const auto r = rmm({"info", path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("none: chats use ChatML (--chat-template names another)"), std::string::npos) << r.out;
}

TEST(InfoCli, BadFilesGiveOneLineAndExitOne) {
  const auto dir = temp_dir("info-cli");
  std::ofstream(dir / "notes.txt") << "just text\n";
  std::ofstream(dir / "empty.gguf").close();
  GgufBuilder v1;
  v1.header(1, 0, 0);
  v1.write(dir / "v1.gguf");
  const std::vector<std::pair<std::filesystem::path, std::string>> cases = {
      {dir / "notes.txt", "not a GGUF file (it does not start with 'GGUF')"},
      {dir / "empty.gguf", "file is empty, not a GGUF file"},
      {dir / "v1.gguf", "GGUF version 1 is not supported (only versions 2 and 3 are)"},
      {dir, "is a directory, not a GGUF file"},
      {dir / "missing.gguf", "no such file"},
  };
  for (const auto& [path, problem] : cases) {
    for (const char* json_flag : {"", "--json"}) {
      std::vector<std::string> args = {"info", path.string()};
      if (*json_flag) args.push_back(json_flag);
      const auto r = rmm(args);
      EXPECT_EQ(r.exit_code, 1) << path;
      EXPECT_EQ(r.out, "") << path;
      EXPECT_EQ(r.err, "rmm: " + path.string() + ": " + problem + "\n");
    }
  }
}

TEST(InfoCli, TruncatedModelIsABadFile) {
  RMM_REQUIRE_SHARED_MODEL(path, "llama-2-tiny-random.gguf");
  const auto dir = temp_dir("info-cli-cut");
  GgufBuilder cut;
  cut.bytes = read_bytes(path);
  cut.bytes.resize(cut.bytes.size() - 1000);
  cut.write(dir / "cut.gguf");
  const auto r = rmm({"info", (dir / "cut.gguf").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("extends past the end of the file"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;  // one line
}

TEST(InfoCli, UsageErrorsExitTwo) {
  RMM_REQUIRE_SHARED_MODEL(path, "stories260K.gguf");
  EXPECT_EQ(rmm({"info"}).exit_code, 2);
  EXPECT_EQ(rmm({"info", path.string(), "--parallel", "0"}).exit_code, 2);
  EXPECT_EQ(rmm({"info", path.string(), "--flash-attn", "maybe"}).exit_code, 2);
  EXPECT_EQ(rmm({"info", path.string(), "--ctx-size", "-5"}).exit_code, 2);
}

}  // namespace
}  // namespace rmm::test
