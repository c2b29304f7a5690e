// `rmm forge` and `rmm version` as a user runs them.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "forge/forge_fixture.hpp"

namespace rmm::test {
namespace {

namespace fs = std::filesystem;

class ForgeCli : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_dir("forge-cli"); }
  void TearDown() override { fs::remove_all(dir_); }

  // Expects exit code 2 and an error that names `flag`; no file may appear.
  void expect_usage_error(const std::vector<std::string>& args, const std::string& flag) {
    const fs::path out = dir_ / "bad.gguf";
    const ProcessResult r = rmm_forge(out, args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(flag), std::string::npos) << "error does not name " << flag << ": " << r.err;
    EXPECT_FALSE(fs::exists(out));
  }

  fs::path dir_;
};

TEST_F(ForgeCli, SameSeedSameBytesOtherSeedOtherBytes) {
  for (const std::string type : {"q4_k", "f16"}) {
    const fs::path a = dir_ / "a.gguf", b = dir_ / "b.gguf", c = dir_ / "c.gguf";
    // The second type forges over the first one's files.
    ASSERT_EQ(rmm_forge(a, {"--quiet", "--force", "--type", type, "--seed", "7"}).exit_code, 0);
    ASSERT_EQ(rmm_forge(b, {"--quiet", "--force", "--type", type, "--seed", "7", "--threads", "1"}).exit_code,
              0);
    ASSERT_EQ(rmm_forge(c, {"--quiet", "--force", "--type", type, "--seed", "8"}).exit_code, 0);
    const std::string bytes_a = read_file(a), bytes_b = read_file(b), bytes_c = read_file(c);
    ASSERT_GT(bytes_a.size(), 1000000u);
    EXPECT_TRUE(bytes_a == bytes_b) << type << ": same seed gave different files";
    EXPECT_EQ(bytes_a.size(), bytes_c.size());
    EXPECT_FALSE(bytes_a == bytes_c) << type << ": different seeds gave the same file";
  }
}

TEST_F(ForgeCli, ProgressGoesToStderrAndTheSummaryToStdout) {
  const fs::path out = dir_ / "m.gguf";
  const ProcessResult r = rmm_forge(out, {});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("forge: 100%"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("forge:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(out.string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("32000 tokens"), std::string::npos) << r.out;

  const ProcessResult quiet = rmm_forge(out, {"--quiet", "--force"});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");
  // Only the model is left: the temporary file was renamed.
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir_)) entries += e.path() != out;
  EXPECT_EQ(entries, 0u);
}

TEST_F(ForgeCli, AnExistingFileIsOverwrittenOnlyWithForce) {
  const fs::path out = dir_ / "m.gguf";
  { std::ofstream(out) << "precious"; }
  const ProcessResult refused = rmm_forge(out, {"--quiet"});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find(out.string()), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
  EXPECT_EQ(read_file(out), "precious");

  const ProcessResult forced = rmm_forge(out, {"--quiet", "--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_GT(fs::file_size(out), 1000u);
  EXPECT_NE(read_file(out), "precious");
}

TEST_F(ForgeCli, InvalidShapesAreUsageErrorsNamingTheFlag) {
  expect_usage_error({"--heads", "5"}, "--heads");        // 64 % 5 != 0
  expect_usage_error({"--kv-heads", "3"}, "--kv-heads");  // 4 % 3 != 0
  expect_usage_error({"--embd", "72", "--heads", "8", "--kv-heads", "4"},
                     "--embd");                                           // head size 9: RoPE needs pairs
  expect_usage_error({"--heads", "2", "--kv-heads", "4"}, "--kv-heads");  // more KV heads than heads
}

TEST_F(ForgeCli, OutOfRangeAndMalformedValuesAreUsageErrors) {
  expect_usage_error({"--layers", "0"}, "--layers");
  expect_usage_error({"--embd", "99999999"}, "--embd");
  expect_usage_error({"--ffn", "-3"}, "--ffn");
  expect_usage_error({"--ctx", "lots"}, "--ctx");
  expect_usage_error({"--type", "q3_k"}, "--type");
  expect_usage_error({"--preset", "70b"}, "--preset");
  expect_usage_error({"--rms-eps", "0"}, "--rms-eps");
  expect_usage_error({"--rope-base", "-1"}, "--rope-base");
  expect_usage_error({"--threads", "0"}, "--threads");
}

TEST_F(ForgeCli, MissingVocabAndDirectoryAreRuntimeErrors) {
  ProcessResult r = rmm_forge(dir_ / "m.gguf", {"--vocab", "no-such-vocab"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no-such-vocab"), std::string::npos) << r.err;
  r = rmm_forge(dir_ / "nowhere" / "m.gguf", {});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nowhere"), std::string::npos) << r.err;
}

TEST_F(ForgeCli, HelpListsTheOptions) {
  const ProcessResult r = run_process({rmm_binary().string(), "forge", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag :
       {"--preset", "--type", "--seed", "--layers", "--kv-heads", "--vocab", "--threads"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

TEST(VersionCli, TextNamesRmmLlamaCppAndTheCpuBackend) {
  const ProcessResult r = run_process({rmm_binary().string(), "version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind(std::string("rmm ") + RMM_VERSION + "\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(std::string("llama.cpp ") + llama_version()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("backend CPU"), std::string::npos) << r.out;
}

TEST(VersionCli, JsonHasTheSameFacts) {
  const ProcessResult r = run_process({rmm_binary().string(), "version", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("rmm"), RMM_VERSION);
  EXPECT_EQ(j.at("llama_cpp"), llama_version());
  bool cpu = false;
  for (const auto& b : j.at("backends")) cpu |= b.at("name") == "CPU";
  EXPECT_TRUE(cpu) << r.out;
  EXPECT_NE(j.at("system_info").get<std::string>().find("CPU"), std::string::npos);
}

}  // namespace
}  // namespace rmm::test
