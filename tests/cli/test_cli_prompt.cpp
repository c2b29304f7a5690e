// `rmm prompt`: templates from the command line, in a store under a temporary RMM_HOME.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/subprocess.hpp"
#include "support/test_env.hpp"

using namespace rmm;
using namespace rmm::test;
using json = nlohmann::json;

namespace {

class CliPrompt : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = temp_dir("cli-prompt");
    ::setenv("RMM_HOME", home_.c_str(), 1);  // never the user's own ~/Documents/rmm
  }
  void TearDown() override { ::unsetenv("RMM_HOME"); }

  ProcessResult prompt(std::vector<std::string> args) {
    args.insert(args.begin(), {rmm_binary().string(), "prompt"});
    return run_process(args);
  }
  std::filesystem::path home_;
};

}  // namespace

TEST_F(CliPrompt, ListAndShowTheStarters) {
  auto r = prompt({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* id : {"coding-assistant", "writing-assistant", "data-analysis", "summarize", "translate",
                         "json-extraction"})
    EXPECT_NE(r.out.find(id), std::string::npos) << id;
  EXPECT_TRUE(std::filesystem::exists(home_ / "rmm.db"));

  r = prompt({"list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out).size(), 6u);

  r = prompt({"show", "Translate", "--json"});  // by name, too
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json t = json::parse(r.out);
  EXPECT_EQ(t["id"], "translate");
  EXPECT_EQ(t["version"], 1);

  r = prompt({"show", "translate"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Variables:"), std::string::npos) << r.out;

  r = prompt({"show", "no-such-thing"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no-such-thing"), std::string::npos) << r.err;
}

TEST_F(CliPrompt, ExportImportMakesANewVersion) {
  auto r = prompt({"export", "translate"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto path = home_ / "prompts" / "translate.json";
  EXPECT_EQ(r.out, path.string() + "\n");
  json t;
  std::ifstream(path) >> t;
  EXPECT_EQ(t["id"], "translate");
  t["description"] = "Mine now.";
  std::ofstream(path) << t.dump(2);

  r = prompt({"import", path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("version 2"), std::string::npos) << r.out;
  EXPECT_EQ(json::parse(prompt({"show", "translate", "--json"}).out)["description"], "Mine now.");
  EXPECT_NE(json::parse(prompt({"show", "translate", "--version", "1", "--json"}).out)["description"],
            "Mine now.");

  const auto out = home_ / "elsewhere.json";
  ASSERT_EQ(prompt({"export", "translate", "--version", "1", "--out", out.string()}).exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(out));

  // A new template without an id gets one from its name.
  std::ofstream(home_ / "new.json") << R"({"name": "My Helper", "blocks": [{"type": "user", "text": "Hi"}]})";
  r = prompt({"import", (home_ / "new.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("my-helper"), std::string::npos) << r.out;

  std::ofstream(home_ / "bad.json") << R"({"name": "B", "blocks": [{"type": "poem", "text": "x"}]})";
  r = prompt({"import", (home_ / "bad.json").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("blocks[0].type"), std::string::npos) << r.err;
}

TEST_F(CliPrompt, ImportRefusesATakenNameAndAddsNoVersionForTheSameContent) {
  auto r = prompt({"export", "translate"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto path = home_ / "prompts" / "translate.json";
  r = prompt({"import", path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "unchanged translate (version 1 is the same)\n");
  EXPECT_EQ(json::parse(prompt({"show", "translate", "--json"}).out)["version"], 1);

  // Without its id, the same content is still the same template.
  json t;
  std::ifstream(path) >> t;
  t.erase("id");
  std::ofstream(home_ / "no-id.json") << t.dump(2);
  r = prompt({"import", (home_ / "no-id.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "unchanged translate (version 1 is the same)\n");

  // Other content under a taken name and no id: refused, saying how to add a version instead.
  t["description"] = "Mine now.";
  std::ofstream(home_ / "no-id.json") << t.dump(2);
  r = prompt({"import", (home_ / "no-id.json").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("a template named 'Translate' exists (id 'translate', version 1)"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("add \"id\": \"translate\""), std::string::npos) << r.err;
  r = prompt({"list", "--json"});
  EXPECT_EQ(json::parse(r.out).size(), 6u) << "nothing was added";
}

TEST_F(CliPrompt, RunGeneratesAsRunWouldForTheSameMessages) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  auto r = prompt({"run", "translate", "--var", "text=Once upon a time", "--var", "target=German", "--model",
                   model.string(), "-t", "1", "--temp", "0", "-n", "16"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.out.empty());
  // The same system and user messages through `rmm run` (ChatML: the model has no template of its own).
  const json built = json::parse(prompt({"show", "translate", "--json"}).out);
  std::string system = built["blocks"][0]["text"];
  for (const auto& [k, v] :
       {std::pair<std::string, std::string>{"{{source}}", "English"}, {"{{target}}", "German"}})
    system.replace(system.find(k), k.size(), v);
  const auto plain =
      run_process({rmm_binary().string(), "run", model.string(), "Once upon a time", "--system", system,
                   "--chat-template", "chatml", "-t", "1", "--temp", "0", "-n", "16"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(r.out, plain.out);

  r = prompt({"run", "summarize", "--var", "max_words=5", "--model", model.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("max_words"), std::string::npos) << r.err;
  r = prompt({"run", "summarize", "--var", "colour=red", "--model", model.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("colour"), std::string::npos) << r.err;
  r = prompt({"run", "summarize"});  // no model named anywhere
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--model"), std::string::npos) << r.err;
}
