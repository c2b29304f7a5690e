// Conversations as trees (schema step 5) in both back ends: message parents,
// branches, the current leaf, and the upgrade of linear conversations.
#include <string>
#include <vector>

#include "store/migrations.hpp"
#include "store_test_fixture.hpp"

namespace rmm::store::test {
namespace {

ChatMessage msg(const std::string& role, const std::string& content) {
  ChatMessage m;
  m.role = role;
  m.content = content;
  return m;
}

std::vector<std::string> contents(const std::vector<ChatMessage>& msgs) {
  std::vector<std::string> out;
  for (const auto& m : msgs) out.push_back(m.content);
  return out;
}

const ChatMessage& by_id(const Conversation& c, int64_t id) {
  for (const auto& m : c.messages)
    if (m.id == id) return m;
  throw std::runtime_error("no message " + std::to_string(id));
}

TEST_P(StoreTest, PlainAppendsFormAChainEndingAtTheCurrentLeaf) {
  const auto id = store_->create_conversation({}).id;
  EXPECT_EQ(store_->get_conversation(id)->current_leaf, 0);
  const auto a = store_->append_message(id, msg("system", "a"));
  const auto b = store_->append_message(id, msg("user", "b"));
  const auto c = store_->append_message(id, msg("assistant", "c"));
  EXPECT_EQ(a.parent_id, 0);
  EXPECT_EQ(b.parent_id, a.id);
  EXPECT_EQ(c.parent_id, b.id);
  const auto got = store_->get_conversation(id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->current_leaf, c.id);
  ASSERT_EQ(got->messages.size(), 3u);
  EXPECT_EQ(got->messages[0].parent_id, 0);
  EXPECT_EQ(got->messages[1].parent_id, a.id);
  EXPECT_EQ(got->messages[2].parent_id, b.id);
  EXPECT_EQ(contents(current_path(*got)), (std::vector<std::string>{"a", "b", "c"}));
  // The leaf is listed too.
  EXPECT_EQ(store_->list_conversations({}).items.at(0).current_leaf, c.id);
}

TEST_P(StoreTest, CreatedMessagesAreAChainWhateverParentsTheyCarry) {
  Conversation c;
  c.messages = {msg("user", "q"), msg("assistant", "a"), msg("user", "q2")};
  c.messages[2].parent_id = 12345;  // ignored: create stores a chain
  const auto created = store_->create_conversation(c);
  ASSERT_EQ(created.messages.size(), 3u);
  EXPECT_EQ(created.messages[0].parent_id, 0);
  EXPECT_EQ(created.messages[1].parent_id, created.messages[0].id);
  EXPECT_EQ(created.messages[2].parent_id, created.messages[1].id);
  EXPECT_EQ(created.current_leaf, created.messages[2].id);
  const auto got = store_->get_conversation(created.id);
  EXPECT_EQ(got->current_leaf, created.messages[2].id);
  EXPECT_EQ(contents(current_path(*got)), (std::vector<std::string>{"q", "a", "q2"}));
}

TEST_P(StoreTest, BranchesAreSiblingsAndTheCurrentLeafPicksThePath) {
  Conversation start;
  start.messages = {msg("user", "question")};
  const auto conv = store_->create_conversation(start);
  const std::string id = conv.id;
  const int64_t question = conv.messages[0].id;
  const auto first = store_->append_message(id, msg("assistant", "first answer"));
  // Regenerate: a second answer to the same question.
  const auto second = store_->append_message(id, msg("assistant", "second answer"), question);
  EXPECT_EQ(first.parent_id, question);
  EXPECT_EQ(second.parent_id, question);
  auto got = store_->get_conversation(id);
  EXPECT_EQ(got->message_count, 3);
  EXPECT_EQ(got->messages.size(), 3u) << "every branch is returned";
  EXPECT_EQ(got->current_leaf, second.id);
  EXPECT_EQ(contents(current_path(*got)), (std::vector<std::string>{"question", "second answer"}));

  // Switch back to the first answer; a plain append continues that branch.
  const int64_t updated = got->updated_at;
  EXPECT_TRUE(store_->set_current_leaf(id, first.id));
  got = store_->get_conversation(id);
  EXPECT_EQ(got->current_leaf, first.id);
  EXPECT_EQ(got->updated_at, updated) << "switching branches is not an update";
  EXPECT_EQ(contents(current_path(*got)), (std::vector<std::string>{"question", "first answer"}));
  const auto follow = store_->append_message(id, msg("user", "follow-up"));
  EXPECT_EQ(follow.parent_id, first.id);

  // Edit and resend the first question: a new root, then a batch chained under a message.
  const auto edited = store_->append_message(id, msg("user", "edited question"), int64_t{0});
  EXPECT_EQ(edited.parent_id, 0);
  const auto chain = store_->append_messages(id, {msg("assistant", "x"), msg("user", "y")}, edited.id);
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0].parent_id, edited.id);
  EXPECT_EQ(chain[1].parent_id, chain[0].id);
  got = store_->get_conversation(id);
  EXPECT_EQ(got->current_leaf, chain[1].id);
  EXPECT_EQ(got->message_count, 7);
  EXPECT_EQ(contents(current_path(*got)), (std::vector<std::string>{"edited question", "x", "y"}));
  EXPECT_EQ(by_id(*got, follow.id).parent_id, first.id);

  // Any message may be the current leaf (the path then ends there).
  EXPECT_TRUE(store_->set_current_leaf(id, question));
  EXPECT_EQ(contents(current_path(*store_->get_conversation(id))), (std::vector<std::string>{"question"}));
  EXPECT_FALSE(store_->set_current_leaf("missing", question));
}

TEST_P(StoreTest, ForkedAnswersKeepTheirSourceAndSplitPosition) {
  const auto id = store_->create_conversation({}).id;
  const auto q = store_->append_message(id, msg("user", "q"));
  const auto a = store_->append_message(id, msg("assistant", "a b c"));
  auto f = msg("assistant", "a x y");
  f.fork_of = a.id;
  f.fork_at = 1;
  const auto fork = store_->append_messages(id, {f}, q.id).at(0);
  const auto got = store_->get_conversation(id);
  ASSERT_TRUE(got);
  EXPECT_EQ(by_id(*got, fork.id).fork_of, a.id);
  EXPECT_EQ(by_id(*got, fork.id).fork_at, 1);
  EXPECT_EQ(by_id(*got, fork.id).parent_id, q.id);
  EXPECT_EQ(by_id(*got, a.id).fork_of, 0);
}

TEST_P(StoreTest, ParentsAndLeavesOutsideTheConversationAreRefused) {
  Conversation a, b;
  a.messages = {msg("user", "in a")};
  b.messages = {msg("user", "in b")};
  const auto ca = store_->create_conversation(a);
  const auto cb = store_->create_conversation(b);
  const int64_t other = cb.messages[0].id;
  expect_invalid([&] { store_->append_message(ca.id, msg("assistant", "x"), other); }, "parent");
  expect_invalid([&] { store_->append_message(ca.id, msg("assistant", "x"), int64_t{999999}); }, "parent");
  expect_invalid([&] { store_->append_message(ca.id, msg("assistant", "x"), int64_t{-1}); }, "parent");
  expect_invalid(
      [&] {
        store_->append_messages(ca.id, {msg("user", "1"), msg("robot", "2")});
      },
      "messages[1]");
  expect_invalid([&] { store_->set_current_leaf(ca.id, other); }, "current_leaf");
  expect_invalid([&] { store_->set_current_leaf(ca.id, 0); }, "current_leaf");
  const auto got = store_->get_conversation(ca.id);
  EXPECT_EQ(got->message_count, 1) << "nothing was added by the refused calls";
  EXPECT_EQ(got->messages.size(), 1u);
  EXPECT_EQ(got->current_leaf, ca.messages[0].id);
  try {
    store_->append_message("missing", msg("user", "x"), int64_t{0});
    ADD_FAILURE() << "append to a missing conversation succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  }
  // An empty batch changes nothing but is still checked.
  EXPECT_TRUE(store_->append_messages(ca.id, {}).empty());
  expect_invalid([&] { store_->append_messages(ca.id, {}, other); }, "parent");
  EXPECT_EQ(store_->get_conversation(ca.id)->updated_at, got->updated_at);
}

TEST_P(StoreTest, DeletingABranchedConversationTakesEveryMessage) {
  Conversation c;
  c.messages = {msg("user", "q"), msg("assistant", "a")};
  const auto created = store_->create_conversation(c);
  store_->append_message(created.id, msg("assistant", "b"), created.messages[0].id);
  store_->append_message(created.id, msg("user", "root 2"), int64_t{0});
  EXPECT_TRUE(store_->delete_conversation(created.id));
  EXPECT_EQ(loc_->scalar("SELECT COUNT(*) FROM messages WHERE conversation_id = '" + created.id + "'"), "0");
}

TEST_P(StoreTest, Schema4LinearConversationsUpgradeToChains) {
  store_.reset();
  auto older = TestLocation::make(GetParam());
  auto v4 = open_store_at_version(*older, 4);
  EXPECT_EQ(v4->schema_version(), 4);
  v4.reset();
  // Two conversations as schema 4 has them, their messages interleaved by id, and one without messages.
  older->exec(
      "INSERT INTO conversations (id, title, model, params_json, created_at, updated_at, touch_seq, "
      "message_count) VALUES ('l1', 'one', 'm', '{}', 1, 2, 1, 3), ('l2', 'two', 'm', '{}', 1, 2, 2, 2), "
      "('l3', 'empty', 'm', '{}', 1, 1, 3, 0)");
  for (const char* row : {"'l1', 'user', 'q1'", "'l2', 'user', 'r1'", "'l1', 'assistant', 'a1'",
                          "'l2', 'assistant', 'r2'", "'l1', 'user', 'q2'"}) {
    older->exec(std::string("INSERT INTO messages (conversation_id, role, content, model, prompt_tokens, "
                            "completion_tokens, timings_json, logprobs_json, created_at) VALUES (") +
                row + ", '', 0, 0, '{}', '', 2)");
  }
  auto migrated = open_store(older->location());
  EXPECT_EQ(migrated->schema_version(), sqlite_migrations().back().version);
  auto one = migrated->get_conversation("l1");
  ASSERT_TRUE(one);
  ASSERT_EQ(one->messages.size(), 3u);
  EXPECT_EQ(one->messages[0].parent_id, 0);
  EXPECT_EQ(one->messages[1].parent_id, one->messages[0].id);
  EXPECT_EQ(one->messages[2].parent_id, one->messages[1].id);
  EXPECT_EQ(one->current_leaf, one->messages[2].id);
  EXPECT_EQ(contents(current_path(*one)), (std::vector<std::string>{"q1", "a1", "q2"}));
  auto two = migrated->get_conversation("l2");
  ASSERT_EQ(two->messages.size(), 2u);
  EXPECT_EQ(two->messages[1].parent_id, two->messages[0].id);
  EXPECT_EQ(two->current_leaf, two->messages[1].id);
  EXPECT_EQ(migrated->get_conversation("l3")->current_leaf, 0);
  // They keep working as before: a plain append follows the last message.
  const auto next = migrated->append_message("l1", msg("assistant", "a2"));
  EXPECT_EQ(next.parent_id, one->messages[2].id);
  EXPECT_EQ(migrated->append_message("l3", msg("user", "first")).parent_id, 0);
}

}  // namespace
}  // namespace rmm::store::test
