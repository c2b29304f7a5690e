// `rmm chat` driven through stdin like a terminal session.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/subprocess.hpp"
#include "support/test_env.hpp"

using namespace rmm;
using namespace rmm::test;

TEST(CliChat, MultiTurnWithCommandsAndSave) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const auto dir = temp_dir("chat");
  const auto saved = dir / "conv.json";
  const std::string input = "/help\nHello there\n/system Be kind.\nTell me a story\nAnd then?\n/save " +
                            saved.string() + "\n/bogus\n";
  auto r = run_process({rmm_binary().string(), "chat", model.string(), "--temp", "0", "-n", "12", "-t", "1"}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("/reset"), std::string::npos);  // from /help
  EXPECT_NE(r.out.find("unknown command /bogus"), std::string::npos);
  const auto j = nlohmann::json::parse(std::ifstream(saved));
  // /system started over: system + two user turns + two answers.
  ASSERT_EQ(j.size(), 5u) << j.dump();
  EXPECT_EQ(j[0]["role"], "system");
  EXPECT_EQ(j[0]["content"], "Be kind.");
  EXPECT_EQ(j[1]["content"], "Tell me a story");
  EXPECT_EQ(j[2]["role"], "assistant");
  EXPECT_EQ(j[3]["content"], "And then?");
  // Each answer was printed on stdout.
  EXPECT_NE(r.out.find(j[2]["content"].get<std::string>()), std::string::npos);
}

TEST(CliChat, EndOfInputExitsCleanly) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  auto r = run_process({rmm_binary().string(), "chat", model.string(), "-n", "4", "-t", "1"}, "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}
