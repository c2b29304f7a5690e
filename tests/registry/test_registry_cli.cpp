// `rmm models`, `rmm alias`, `rmm rm` and registry names in `rmm run`, as a
// user runs them: the real binary with RMM_HOME in a temp dir.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/subprocess.hpp"
#include "support/test_env.hpp"

using namespace rmm;
using namespace rmm::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class RegistryCli : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = temp_dir(std::string("registry-cli-") +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(home_ / "models");
    ::setenv("RMM_HOME", home_.c_str(), 1);
    ::unsetenv("RMM_DATABASE");
    ::unsetenv("RMM_MODELS_DIR");
    ::unsetenv("RMM_EXTRA_DIRS");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(home_, ec);
  }
  ProcessResult rmm(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), rmm_binary().string());
    return run_process(args, input);
  }
  json models_json() {
    auto r = rmm({"models", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
  }
  fs::path home_;
};

TEST_F(RegistryCli, ModelsOnAnEmptyHomeSaysWhereModelsGoAndMakesTheFolder) {
  fs::remove_all(home_ / "models");
  auto r = rmm({"models"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no models in " + (home_ / "models").string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rmm pull"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_directory(home_ / "models"));
}

TEST_F(RegistryCli, ModelsTableShowsPathsOnRequest) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const fs::path file = home_ / "models" / "stories260K.gguf";
  fs::copy_file(model, file);
  auto plain = rmm({"models"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out.find(file.string()), std::string::npos) << plain.out;
  auto paths = rmm({"models", "--paths"});
  ASSERT_EQ(paths.exit_code, 0) << paths.err;
  EXPECT_NE(paths.out.find("PATH"), std::string::npos) << paths.out;
  EXPECT_NE(paths.out.find(file.string()), std::string::npos) << paths.out;
}

// rmm info and rmm prompt run take names as rmm run does (issue 11).
TEST_F(RegistryCli, InfoAndPromptRunResolveNamesAsRunDoes) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const auto nested = home_ / "models" / "karpathy" / "tinyllamas";
  fs::create_directories(nested);
  fs::copy_file(model, nested / "stories260K.gguf");
  ASSERT_EQ(rmm({"alias", "stories260k:f32", "tiny"}).exit_code, 0);
  for (const char* name : {"stories260k:f32", "tiny", "STORIES260K"}) {
    auto r = rmm({"info", name, "--json"});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_EQ(json::parse(r.out)["context_length"], 2048) << name;
  }
  EXPECT_EQ(rmm({"info", "nothing-like-it"}).exit_code, 1);
  auto by_name = rmm({"prompt", "run", "translate", "--var", "text=Once upon a time", "--var",
                      "target=German", "--model", "tiny", "-n", "8", "--temp", "0", "-t", "1"});
  ASSERT_EQ(by_name.exit_code, 0) << by_name.err;
  auto by_path =
      rmm({"prompt", "run", "translate", "--var", "text=Once upon a time", "--var", "target=German",
           "--model", (nested / "stories260K.gguf").string(), "-n", "8", "--temp", "0", "-t", "1"});
  ASSERT_EQ(by_path.exit_code, 0) << by_path.err;
  EXPECT_EQ(by_name.out, by_path.out);
}

TEST_F(RegistryCli, ModelsAliasRunAndRm) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const fs::path file = home_ / "models" / "stories260K.gguf";
  fs::copy_file(model, file);
  std::ofstream(home_ / "models" / "weights.safetensors") << "x";

  json list = models_json();
  ASSERT_EQ(list.size(), 2u) << list.dump();
  EXPECT_EQ(list[0]["name"], "stories260k:f32");
  EXPECT_EQ(list[0]["kind"], "chat");
  EXPECT_EQ(list[0]["quantization"], "F32");
  EXPECT_EQ(list[0]["path"], file.string());
  EXPECT_EQ(list[0]["use_count"], 0);
  EXPECT_EQ(list[1]["kind"], "needs-conversion");
  auto table = rmm({"models"});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("stories260k:f32"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("convert"), std::string::npos) << table.out;

  auto alias = rmm({"alias", "stories260k:f32", "tiny"});
  ASSERT_EQ(alias.exit_code, 0) << alias.err;
  auto by_alias = rmm({"run", "tiny", "Once upon a time", "-n", "8", "--temp", "0", "-t", "1", "-c", "256"});
  ASSERT_EQ(by_alias.exit_code, 0) << by_alias.err;
  auto by_path =
      rmm({"run", file.string(), "Once upon a time", "-n", "8", "--temp", "0", "-t", "1", "-c", "256"});
  ASSERT_EQ(by_path.exit_code, 0) << by_path.err;
  EXPECT_EQ(by_alias.out, by_path.out);
  EXPECT_FALSE(by_alias.out.empty());

  list = models_json();
  EXPECT_EQ(list[0]["aliases"], json::array({"tiny"}));
  EXPECT_EQ(list[0]["use_count"], 1);  // a path given on the command line is not counted
  ASSERT_TRUE(list[0]["speeds"].contains("CPU")) << list[0].dump();
  EXPECT_GT(list[0]["speeds"]["CPU"]["generation_tokens_per_second"].get<double>(), 0);

  auto refused = rmm({"rm", "tiny"});  // stdin is not a terminal: --yes is needed
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("--yes"), std::string::npos) << refused.err;
  EXPECT_TRUE(fs::exists(file));
  auto removed = rmm({"rm", "tiny", "--yes"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_NE(removed.out.find(file.string()), std::string::npos);
  EXPECT_FALSE(fs::exists(file));
  list = models_json();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["kind"], "needs-conversion");
}

TEST_F(RegistryCli, BadNamesGetClearErrors) {
  std::ofstream(home_ / "models" / "weights.safetensors") << "x";
  auto r = rmm({"run", "no-such-model", "hi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no model named 'no-such-model'"), std::string::npos) << r.err;
  r = rmm({"run", "../escape", "hi"});  // a path, not a name: a missing file (exit 1)
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no such file"), std::string::npos) << r.err;
  r = rmm({"run", "weights:safetensors", "hi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("needs conversion"), std::string::npos) << r.err;
  r = rmm({"alias", "weights:safetensors", "a/b"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("names are not paths"), std::string::npos) << r.err;
  r = rmm({"rm", "--yes", "nothing-here"});
  EXPECT_EQ(r.exit_code, 1);
  r = rmm({"models", "tag", "weights:safetensors", "todo"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(models_json()[0]["tags"], json::array({"todo"}));
}

}  // namespace
