// `rmm chat` driven through stdin like a terminal session.
#include <gtest/gtest.h>

#include <filesystem>
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
  auto r = run_process({rmm_binary().string(), "chat", model.string(), "--temp", "0", "-n", "12", "-t", "1",
                        "--database", (dir / "rmm.db").string()},
                       input);
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
  const auto db = temp_dir("chat-eof") / "rmm.db";
  auto r = run_process(
      {rmm_binary().string(), "chat", model.string(), "-n", "4", "-t", "1", "--database", db.string()}, "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db) && r.err.find("saved conversation") != std::string::npos)
      << "a chat without a turn saves nothing: " << r.err;
}

namespace {

// `rmm chat` on stories260K, greedy and short, saving to `db`.
ProcessResult chat(const std::filesystem::path& model, const std::filesystem::path& db,
                   const std::string& input, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{
      rmm_binary().string(), "chat",     model.string(), "--temp", "0", "-n", "10", "-t", "1",
      "--database",          db.string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run_process(argv, input);
}

// The id from "rmm chat: saved conversation ID (...)" on stderr ("" when absent).
std::string saved_id(const std::string& err) {
  const std::string mark = "rmm chat: saved conversation ";
  const auto at = err.find(mark);
  if (at == std::string::npos) return "";
  const auto start = at + mark.size();
  return err.substr(start, err.find(' ', start) - start);
}

}  // namespace

TEST(CliChat, SavesEveryTurnAndResumeContinuesWhereItStopped) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const auto db = temp_dir("chat-resume") / "rmm.db";
  // The reference: both turns in one session.
  const auto whole = chat(model, db, "Hello there\nAnd then?\n", {"--system", "Be kind."});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  // The same conversation over two sessions.
  const auto first = chat(model, db, "Hello there\n", {"--system", "Be kind."});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string id = saved_id(first.err);
  ASSERT_EQ(id.size(), 32u) << first.err;
  EXPECT_NE(first.err.find("rmm chat: conversation " + id + "\n"), std::string::npos)
      << "named at the start too";
  EXPECT_NE(saved_id(whole.err), id) << "each session is its own conversation";
  ASSERT_EQ(whole.out.rfind(first.out, 0), 0u) << "the first answers agree";
  const std::string second_answer = whole.out.substr(first.out.size());

  const auto resumed = chat(model, db, "And then?\n", {"--resume", id});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(resumed.out.rfind("(resuming conversation " + id +
                                  ", 3 messages)\n[system] Be kind.\n[user] Hello there\n"
                                  "[assistant] ",
                              0),
            0u)
      << resumed.out;
  // With the stored history as its context, the next answer is the one the single session gave.
  ASSERT_GE(resumed.out.size(), second_answer.size());
  EXPECT_EQ(resumed.out.substr(resumed.out.size() - second_answer.size()), second_answer) << resumed.out;
  EXPECT_EQ(saved_id(resumed.err), id) << resumed.err;

  // All five messages are stored: a third session sees them.
  const auto again = chat(model, db, "", {"--resume", id, "--no-save"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("(resuming conversation " + id + ", 5 messages)\n"), std::string::npos)
      << again.out;
  EXPECT_NE(again.out.find("[user] And then?\n[assistant] "), std::string::npos) << again.out;
  EXPECT_EQ(again.err.find("saved conversation"), std::string::npos) << again.err;
}

TEST(CliChat, NoSaveLeavesNoDatabaseAndUnknownIdsFail) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const auto dir = temp_dir("chat-nosave");
  const auto db = dir / "rmm.db";
  const auto r = chat(model, db, "Hello\n", {"--no-save"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db));
  EXPECT_EQ(r.err.find("conversation"), std::string::npos) << r.err;

  const auto unknown = chat(model, db, "Hello\n", {"--resume", "0123456789abcdef0123456789abcdef"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.err;
  EXPECT_NE(unknown.err.find("no conversation '0123456789abcdef0123456789abcdef'"), std::string::npos)
      << unknown.err;
  EXPECT_EQ(unknown.out, "");

  // --system would be lost on a resumed conversation: a usage error.
  const auto both = chat(model, db, "", {"--resume", "x", "--system", "hi"});
  EXPECT_EQ(both.exit_code, 2) << both.err;

  std::ofstream(dir / "file") << "x";
  const auto bad_db = chat(model, dir / "file" / "rmm.db", "Hello\n");
  EXPECT_EQ(bad_db.exit_code, 1) << bad_db.err;
  EXPECT_NE(bad_db.err.find("cannot open the database"), std::string::npos) << bad_db.err;
}
