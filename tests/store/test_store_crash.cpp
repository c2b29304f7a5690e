// kill -9 in the middle of writing: every message the writer reported as
// committed must be there afterwards, and nothing may be half written.
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "store_test_fixture.hpp"

extern char** environ;

namespace rmm::store::test {
namespace {

struct Committed {
  std::set<std::string> conversations;
  std::map<int64_t, std::string> messages;  // message id -> conversation id
};

// Runs store_writer on `location`, lets it write for `ms` after its first
// commit, then SIGKILLs it; adds what it printed to `out`. Returns the lines.
int run_and_kill(const std::string& location, int ms, Committed& out) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::string program = RMM_STORE_WRITER;
  std::vector<char*> argv = {program.data(), const_cast<char*>(location.c_str()), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error("cannot start " + program);
  }

  std::string text;
  char buf[4096];
  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  std::optional<clock::time_point> kill_at;
  bool killed = false;
  for (;;) {
    auto now = clock::now();
    if (!kill_at && text.find('\n') != std::string::npos) kill_at = now + std::chrono::milliseconds(ms);
    if (!killed && ((kill_at && now >= *kill_at) || now - start > std::chrono::seconds(20))) {
      kill(pid, SIGKILL);
      killed = true;
    }
    int timeout = killed ? 1000 : 5;
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, timeout) > 0) {
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0) break;  // EOF: the writer is gone (killed or failed)
      text.append(buf, static_cast<size_t>(n));
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
    throw std::runtime_error("store_writer ended on its own (status " + std::to_string(status) +
                             ") instead of being killed; output: " + text);

  // Only whole lines count: a line cut short was never fully reported.
  int lines = 0;
  std::istringstream in(text.substr(0, text.rfind('\n') + 1));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string kind, conversation;
    fields >> kind >> conversation;
    if (kind == "C") {
      out.conversations.insert(conversation);
    } else if (kind == "M") {
      int64_t id = 0;
      fields >> id;
      out.messages[id] = conversation;
    } else {
      throw std::runtime_error("unexpected writer output: " + line);
    }
    ++lines;
  }
  return lines;
}

TEST_P(StoreTest, KilledWriterLosesNothingCommitted) {
  store_.reset();  // the writer must be the only one writing
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay(0, 80);
  Committed committed;
  for (int round = 0; round < 15; ++round) run_and_kill(loc_->location(), delay(rng), committed);
  ASSERT_GT(committed.messages.size(), 15u);
  RecordProperty("committed_messages", static_cast<int>(committed.messages.size()));

  if (GetParam() == "sqlite") {
    EXPECT_EQ(loc_->scalar("PRAGMA integrity_check"), "ok");
  }
  store_ = open_store(loc_->location());
  std::map<std::string, std::set<int64_t>> stored;
  int seen = 0;
  for (int offset = 0;; offset += 200) {
    auto page = store_->list_conversations(conversation_query("", 200, offset));
    for (const auto& head : page.items) {
      auto c = store_->get_conversation(head.id);
      ASSERT_TRUE(c);
      // The counter and the rows were written in one transaction.
      EXPECT_EQ(c->message_count, static_cast<int>(c->messages.size())) << c->id;
      auto& ids = stored[c->id];  // present even when it has no messages yet
      for (const auto& m : c->messages) ids.insert(m.id);
      ++seen;
    }
    if (page.items.size() < 200) {
      EXPECT_EQ(seen, page.total);
      break;
    }
  }
  for (const auto& id : committed.conversations)
    EXPECT_TRUE(stored.count(id)) << "conversation " << id << " lost";
  for (const auto& [id, conversation] : committed.messages)
    EXPECT_TRUE(stored[conversation].count(id)) << "message " << id << " of " << conversation << " lost";
  // Whole messages only: every content is one repeated letter of its full length.
  EXPECT_EQ(loc_->scalar("SELECT COUNT(*) FROM messages WHERE content <> '' AND content <> "
                         "substr(content, 1, 1) || substr(content, 1, length(content) - 1)"),
            "0");
}

}  // namespace
}  // namespace rmm::store::test
