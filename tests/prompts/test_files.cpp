// Import and export: atomic files under $RMM_HOME/prompts, clear errors for bad ones.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "core/paths.hpp"
#include "prompts/files.hpp"
#include "prompts/starters.hpp"
#include "support/test_env.hpp"

using namespace rmm::prompts;

TEST(PromptFiles, ExportImportRoundTripUnderRmmHome) {
  const auto home = rmm::test::temp_dir("prompt-files");
  ::setenv("RMM_HOME", home.c_str(), 1);
  for (const auto& t : starter_templates()) {
    const auto path = default_export_path(t);
    EXPECT_EQ(path, home / "prompts" / (t.id + ".json"));
    export_file(t, path);
    const Template back = import_file(path);
    EXPECT_EQ(to_json(back), to_json(t));
  }
  // No temporary files are left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(home / "prompts")) {
    EXPECT_EQ(e.path().extension(), ".json") << e.path();
    ++files;
  }
  EXPECT_EQ(files, 6);
}

TEST(PromptFiles, BadFilesAreClearErrors) {
  const auto dir = rmm::test::temp_dir("prompt-bad-files");
  EXPECT_THROW(import_file(dir / "missing.json"), rmm::Error);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
  };
  try {
    import_file(write("unknown.json", R"({"name": "x", "blocks": [{"type": "poem", "text": "x"}]})"));
    ADD_FAILURE();
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.field(), "blocks[0].type");
    EXPECT_NE(std::string(e.what()).find("unknown.json"), std::string::npos) << e.what();
  }
  EXPECT_THROW(import_file(write("big.json", std::string(300 * 1024, ' '))), TemplateError);
  EXPECT_THROW(import_file(write("utf8.json", "{\"name\": \"\xc0\xaf\"}")), TemplateError);
  EXPECT_THROW(import_file(write("notjson.json", "name: x")), TemplateError);
}
