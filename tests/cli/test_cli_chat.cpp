// `rmm chat` driven through stdin like a terminal session.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/subprocess.hpp"
#include "store/store.hpp"
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
  // stories260K has no chat template: the chat says once that it uses ChatML.
  const std::string note = "stories260K has no chat template, so this chat uses ChatML";
  const auto at = r.err.find(note);
  EXPECT_NE(at, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(note, at + 1), std::string::npos) << r.err;
  auto named = run_process({rmm_binary().string(), "chat", model.string(), "-n", "4", "-t", "1", "--no-save",
                            "--chat-template", "chatml"},
                           "");
  EXPECT_EQ(named.err.find("has no chat template"), std::string::npos) << named.err;
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

namespace {

// `rmm ARGS` with its stdin, stdout and stderr on a pseudo-terminal (what a
// user at a terminal sees); `input` is typed, then Ctrl-D. Returns the output.
std::string run_in_terminal(const std::vector<std::string>& args, const std::string& input) {
  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) return "forkpty failed";
  if (pid == 0) {
    std::vector<char*> argv;
    std::string bin = rmm_binary().string();
    argv.push_back(bin.data());
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::string out;
  const std::string typed = input + "\x04";
  bool sent = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 200) > 0) {
      char buf[4096];
      const ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0) break;  // EIO: the child closed the terminal
      out.append(buf, static_cast<size_t>(n));
    }
    // Typed once the prompt is up, as a user would.
    if (!sent && out.find("> ") != std::string::npos) {
      if (write(master, typed.data(), typed.size()) != static_cast<ssize_t>(typed.size())) break;
      sent = true;
    }
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  return out;
}

// Writes a conversation straight into the store (its id chosen).
void store_conversation(const std::filesystem::path& db, const std::string& id, const std::string& title,
                        const std::string& model) {
  auto s = store::open_store(db.string());
  store::Conversation c;
  c.id = id;
  c.title = title;
  c.model = model;
  store::ChatMessage m;
  m.role = "user";
  m.content = title;
  m.timings_json = "{}";
  c.messages.push_back(m);
  s->create_conversation(c);
}

}  // namespace

TEST(CliChat, BannerNamesTheModelNotLlamaCppsDescription) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const auto db = temp_dir("chat-banner") / "rmm.db";
  const std::string out = run_in_terminal(
      {"chat", model.string(), "-n", "4", "-t", "1", "--no-save", "--database", db.string()}, "");
  EXPECT_NE(out.find("rmm chat with stories260K. /help for commands."), std::string::npos) << out;
}

TEST(CliChat, ChatsListsConversationsAndResumeTakesAPrefixWithoutAModel) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const auto dir = temp_dir("chat-list");
  const ScopedEnv home("RMM_HOME", (dir / "home").string());  // the registry: never the user's
  const auto db = dir / "rmm.db";
  const std::string none = run_process({rmm_binary().string(), "chats", "--database", db.string()}).out;
  EXPECT_EQ(none, "no saved conversations (rmm chat MODEL saves one)\n");
  EXPECT_FALSE(std::filesystem::exists(db)) << "listing created the database";

  const auto first = chat(model, db, "Hello there\n");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string id = saved_id(first.err);
  ASSERT_EQ(id.size(), 32u) << first.err;
  const auto second = chat(model, db, "Once upon a time\n");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const std::string id2 = saved_id(second.err);

  // Newest first: 8-character ids, titles, the model, when.
  auto r = run_process({rmm_binary().string(), "chats", "--database", db.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("ID        TITLE             MODEL        UPDATED", 0), 0u) << r.out;
  const auto at2 = r.out.find("\n" + id2.substr(0, 8) + "  Once upon a time  stories260K  20");
  const auto at1 = r.out.find("\n" + id.substr(0, 8) + "  Hello there       stories260K  20");
  EXPECT_NE(at1, std::string::npos) << r.out;
  EXPECT_NE(at2, std::string::npos) << r.out;
  EXPECT_LT(at2, at1) << r.out;
  r = run_process({rmm_binary().string(), "chats", "--json", "--database", db.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto list = nlohmann::json::parse(r.out);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["id"], id2);
  EXPECT_EQ(list[1]["id"], id);
  EXPECT_EQ(list[1]["title"], "Hello there");
  EXPECT_EQ(list[1]["model"], "stories260K");
  EXPECT_EQ(list[1]["message_count"], 2);
  r = run_process({rmm_binary().string(), "chats", "--limit", "1", "--database", db.string()});
  EXPECT_EQ(r.out.find(id.substr(0, 8)), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(1 older ones not shown"), std::string::npos) << r.out;

  // No MODEL: the conversation's; an id prefix is enough.
  const std::vector<std::string> flags{"--temp", "0", "-n", "10", "-t", "1", "--database", db.string()};
  auto resume = [&](const std::string& ref, const std::string& input) {
    std::vector<std::string> argv{rmm_binary().string(), "chat", "--resume", ref};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return run_process(argv, input);
  };
  r = resume(id.substr(0, 8), "And then?\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("(resuming conversation " + id + ", 2 messages)\n[user] Hello there\n", 0), 0u)
      << r.out;
  EXPECT_EQ(saved_id(r.err), id) << r.err;

  // A prefix two ids share lists both (a usage error); an unknown one is a runtime error.
  // Named by path, as a model outside the registry is found.
  store_conversation(db, "abcd0000000000000000000000000001", "first of two", model.string());
  store_conversation(db, "abcd0000000000000000000000000002", "second of two", model.string());
  r = resume("abcd", "");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("ambiguous"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("abcd0000000000000000000000000001  first of two"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("abcd0000000000000000000000000002  second of two"), std::string::npos) << r.err;
  r = resume("ABCD00000000000000000000000000", "");  // a longer prefix, any case
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = resume("abcd0000000000000000000000000002", "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(resuming conversation abcd0000000000000000000000000002, 1 messages)"),
            std::string::npos)
      << r.out;
  r = resume("ffff", "");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("no conversation 'ffff'"), std::string::npos) << r.err;

  // Neither a MODEL nor --resume: a usage error.
  r = run_process({rmm_binary().string(), "chat", "--database", db.string()}, "");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("MODEL"), std::string::npos) << r.err;
}

TEST(CliChat, ResumeNamesAModelThatIsGoneAndFindsRegistryModelsByName) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const auto dir = temp_dir("chat-gone");
  const ScopedEnv home("RMM_HOME", (dir / "home").string());
  const auto db = dir / "rmm.db";
  const auto copy = dir / "vanishing.gguf";
  std::filesystem::copy_file(model, copy);
  auto r = chat(copy, db, "Hello there\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = saved_id(r.err);
  std::filesystem::remove(copy);
  r = run_process({rmm_binary().string(), "chat", "--resume", id, "--database", db.string()}, "Hi\n");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("the model 'vanishing', which is not available"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rmm chat MODEL --resume " + id.substr(0, 8)), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  // Naming one continues it with that model.
  r = chat(model, db, "Hi\n", {"--resume", id});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // A model from the registry is stored under its short name, which finds it again.
  std::filesystem::create_directories(dir / "home" / "models");
  std::filesystem::copy_file(model, dir / "home" / "models" / "registered.gguf");
  r = run_process({rmm_binary().string(), "chat", "registered", "--temp", "0", "-n", "6", "-t", "1",
                   "--database", db.string()},
                  "Hello\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id2 = saved_id(r.err);
  const auto models = nlohmann::json::parse(run_process({rmm_binary().string(), "models", "--json"}).out);
  ASSERT_EQ(models.size(), 1u) << models.dump();
  const std::string short_name = models[0]["name"];
  const auto list = nlohmann::json::parse(
      run_process({rmm_binary().string(), "chats", "--json", "--database", db.string()}).out);
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(list[0]["id"], id2);
  EXPECT_EQ(list[0]["model"], short_name);
  r = run_process({rmm_binary().string(), "chat", "--resume", id2.substr(0, 8), "-n", "4", "-t", "1",
                   "--database", db.string()},
                  "Again\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}
