// API keys, the audit log and conversation owners (schema step 4) in both back ends.
#include <string>
#include <vector>

#include "store/migrations.hpp"
#include "store_test_fixture.hpp"

namespace rmm::store::test {
namespace {

// A well-formed hash: 64 lowercase hex digits, different for each `n`.
std::string hash_of(int n) {
  std::string h = std::to_string(n);
  return std::string(64 - h.size(), 'a') + h;
}

ApiKeyRecord make_key(const std::string& name, int n, const std::string& scope = "generate") {
  ApiKeyRecord k;
  k.name = name;
  k.hash = hash_of(n);
  k.prefix = "rmm-" + std::to_string(n);
  k.scope = scope;
  return k;
}

AuditEntry make_entry(int64_t time, const std::string& key_name) {
  AuditEntry e;
  e.time = time;
  e.key_name = key_name;
  e.client = "127.0.0.1:5000";
  e.method = "POST";
  e.route = "/v1/chat/completions";
  e.model = "tiny:q8_0";
  e.status = 200;
  e.prompt_tokens = time / 100;
  e.completion_tokens = 7;
  e.duration_ms = 12;
  return e;
}

std::vector<int64_t> times_of(const std::vector<AuditEntry>& entries) {
  std::vector<int64_t> out;
  for (const auto& e : entries) out.push_back(e.time);
  return out;
}

// ---- API keys ----------------------------------------------------------------

TEST_P(StoreTest, ApiKeysAreCreatedListedAndRevoked) {
  ApiKeyRecord a = make_key("zed.team_1-x", 1);
  a.models = {"llama*", "qwen2.5-*:q4_k_m", "caf\xC3\xA9 ?"};
  a.requests_per_minute = 60;
  a.tokens_per_minute = 0;
  a.max_streams = 2;
  a.expires_at = 9'000'000'000'000;
  auto created = store_->create_api_key(a);
  EXPECT_GT(created.id, 0);
  EXPECT_GT(created.created_at, 0);
  ApiKeyRecord b = make_key("alice", 2, "admin");
  b.created_at = 1234;
  auto second = store_->create_api_key(b);
  EXPECT_NE(second.id, created.id);
  EXPECT_EQ(second.created_at, 1234);

  auto keys = store_->list_api_keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].name, "alice");  // by name
  EXPECT_EQ(keys[0].scope, "admin");
  EXPECT_TRUE(keys[0].models.empty());
  EXPECT_EQ(keys[0].requests_per_minute, -1);
  EXPECT_EQ(keys[0].expires_at, 0);
  const ApiKeyRecord& z = keys[1];
  EXPECT_EQ(z.id, created.id);
  EXPECT_EQ(z.name, "zed.team_1-x");
  EXPECT_EQ(z.hash, hash_of(1));
  EXPECT_EQ(z.prefix, "rmm-1");
  EXPECT_EQ(z.scope, "generate");
  EXPECT_EQ(z.models, a.models);
  EXPECT_EQ(z.requests_per_minute, 60);
  EXPECT_EQ(z.tokens_per_minute, 0);
  EXPECT_EQ(z.max_streams, 2);
  EXPECT_EQ(z.created_at, created.created_at);
  EXPECT_EQ(z.expires_at, 9'000'000'000'000);
  EXPECT_EQ(z.last_used_at, 0);
  EXPECT_EQ(z.revoked_at, 0);

  EXPECT_TRUE(store_->revoke_api_key("alice", 5000));
  EXPECT_FALSE(store_->revoke_api_key("alice", 6000));  // already revoked
  EXPECT_FALSE(store_->revoke_api_key("nobody", 6000));
  expect_invalid([&] { store_->revoke_api_key("zed.team_1-x", 0); }, "revoke time");

  // The name is free again; the revoked key stays listed, before the new one (by id).
  auto again = store_->create_api_key(make_key("alice", 3, "read"));
  keys = store_->list_api_keys();
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].id, second.id);
  EXPECT_EQ(keys[0].revoked_at, 5000);
  EXPECT_EQ(keys[1].id, again.id);
  EXPECT_EQ(keys[1].revoked_at, 0);
  EXPECT_EQ(keys[1].scope, "read");
  // Revoking touches only the active one.
  EXPECT_TRUE(store_->revoke_api_key("alice", 7000));
  keys = store_->list_api_keys();
  EXPECT_EQ(keys[0].revoked_at, 5000);
  EXPECT_EQ(keys[1].revoked_at, 7000);
  EXPECT_EQ(keys[2].revoked_at, 0);
}

TEST_P(StoreTest, ApiKeyDuplicatesAndBadValuesAreRefused) {
  store_->create_api_key(make_key("alice", 1));
  expect_invalid([&] { store_->create_api_key(make_key("alice", 2)); }, "an API key named 'alice' exists");
  expect_invalid([&] { store_->create_api_key(make_key("bob", 1)); }, "hash");
  store_->revoke_api_key("alice", 100);
  // A revoked key's hash stays taken.
  expect_invalid([&] { store_->create_api_key(make_key("alice", 1)); }, "hash");

  expect_invalid([&] { store_->create_api_key(make_key("k", 3, "write")); }, "scope");
  expect_invalid([&] { store_->create_api_key(make_key("k", 3, "")); }, "scope");
  expect_invalid([&] { store_->create_api_key(make_key("k", 3, "ADMIN")); }, "scope");
  const std::vector<std::string> bad_names = {
      "", "has space", "sl/ash", "caf\xC3\xA9", std::string(65, 'n'), "a'b"};
  for (const std::string& name : bad_names)
    expect_invalid([&] { store_->create_api_key(make_key(name, 3)); }, "API key name");
  expect_invalid([&] { store_->create_api_key(make_key("ab\xC3\x28", 3)); }, "not valid UTF-8");

  auto bad_hash = [&](const std::string& hash) {
    ApiKeyRecord k = make_key("k", 3);
    k.hash = hash;
    expect_invalid([&] { store_->create_api_key(k); }, "hash");
  };
  bad_hash("");
  bad_hash(std::string(63, 'a'));
  bad_hash(std::string(65, 'a'));
  bad_hash(std::string(64, 'A'));
  bad_hash(std::string(63, 'a') + "g");

  ApiKeyRecord k = make_key("k", 3);
  k.requests_per_minute = -2;
  expect_invalid([&] { store_->create_api_key(k); }, "requests_per_minute");
  k = make_key("k", 3);
  k.tokens_per_minute = -5;
  expect_invalid([&] { store_->create_api_key(k); }, "tokens_per_minute");
  k = make_key("k", 3);
  k.max_streams = -2;
  expect_invalid([&] { store_->create_api_key(k); }, "max_streams");
  k = make_key("k", 3);
  k.models.assign(65, "m*");
  expect_invalid([&] { store_->create_api_key(k); }, "models");
  k.models = {"ok*", "ab\xC3\x28"};
  expect_invalid([&] { store_->create_api_key(k); }, "models[1]");
  k.models = {std::string("a\0b", 3)};
  expect_invalid([&] { store_->create_api_key(k); }, "models[0]");
  k = make_key("k", 3);
  k.prefix = "rmm-\xFF";
  expect_invalid([&] { store_->create_api_key(k); }, "prefix");
  k = make_key("k", 3);
  k.expires_at = -1;
  expect_invalid([&] { store_->create_api_key(k); }, "expires_at");
  EXPECT_EQ(store_->list_api_keys().size(), 1u);

  // The edges that are fine.
  k = make_key(std::string(64, 'n'), 4);
  k.models.assign(64, "m*");
  k.requests_per_minute = k.tokens_per_minute = k.max_streams = -1;
  EXPECT_GT(store_->create_api_key(k).id, 0);
  EXPECT_EQ(store_->list_api_keys().size(), 2u);
}

TEST_P(StoreTest, ApiKeyTouchSetsLastUsed) {
  auto a = store_->create_api_key(make_key("a", 1));
  auto b = store_->create_api_key(make_key("b", 2));
  store_->touch_api_keys({});
  store_->touch_api_keys(
      {{a.id, 1000}, {b.id, 2000}, {a.id + b.id + 100, 3000}});  // the unknown id is skipped
  auto keys = store_->list_api_keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].last_used_at, 1000);
  EXPECT_EQ(keys[1].last_used_at, 2000);
  store_->touch_api_keys({{a.id, 1500}, {b.id, 1500}});  // an older time does not move it back
  keys = store_->list_api_keys();
  EXPECT_EQ(keys[0].last_used_at, 1500);
  EXPECT_EQ(keys[1].last_used_at, 2000);
  expect_invalid([&] { store_->touch_api_keys({{a.id, 9000}, {b.id, -1}}); }, "last_used_at");
  EXPECT_EQ(store_->list_api_keys()[0].last_used_at, 1500);  // all or nothing
}

// ---- audit log ---------------------------------------------------------------

TEST_P(StoreTest, AuditAppendsAndListsNewestFirstWithFilters) {
  store_->append_audit({});
  EXPECT_TRUE(store_->list_audit({}).empty());
  const std::vector<std::string> keys = {"alice", "bob", ""};
  std::vector<AuditEntry> batch;
  for (int i = 0; i < 6; ++i) batch.push_back(make_entry(1000 * (i + 1), keys[static_cast<size_t>(i) % 3]));
  batch[4].route = "/api/odd?q=it's \"100%\" _x_ \\ \xF0\x9F\x98\x80 $1 ?1";
  batch[4].method = "WS";
  batch[4].status = 499;
  store_->append_audit(batch);

  auto all = store_->list_audit({});
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(times_of(all), (std::vector<int64_t>{6000, 5000, 4000, 3000, 2000, 1000}));
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i].id, all[i - 1].id);
  const AuditEntry& odd = all[1];
  EXPECT_GT(odd.id, 0);
  EXPECT_EQ(odd.key_name, "bob");
  EXPECT_EQ(odd.client, "127.0.0.1:5000");
  EXPECT_EQ(odd.method, "WS");
  EXPECT_EQ(odd.route, batch[4].route);
  EXPECT_EQ(odd.model, "tiny:q8_0");
  EXPECT_EQ(odd.status, 499);
  EXPECT_EQ(odd.prompt_tokens, 50);
  EXPECT_EQ(odd.completion_tokens, 7);
  EXPECT_EQ(odd.duration_ms, 12);

  AuditQuery q;
  q.since = 3000;
  EXPECT_EQ(times_of(store_->list_audit(q)), (std::vector<int64_t>{6000, 5000, 4000, 3000}));
  q = {};
  q.key_name = "alice";
  EXPECT_EQ(times_of(store_->list_audit(q)), (std::vector<int64_t>{4000, 1000}));
  q.since = 2000;
  EXPECT_EQ(times_of(store_->list_audit(q)), (std::vector<int64_t>{4000}));
  q = {};
  q.key_name = "nobody";
  EXPECT_TRUE(store_->list_audit(q).empty());

  // Paging by id.
  q = {};
  q.limit = 4;
  auto page1 = store_->list_audit(q);
  EXPECT_EQ(times_of(page1), (std::vector<int64_t>{6000, 5000, 4000, 3000}));
  q.before_id = page1.back().id;
  auto page2 = store_->list_audit(q);
  EXPECT_EQ(times_of(page2), (std::vector<int64_t>{2000, 1000}));
  q.before_id = page2.back().id;
  EXPECT_TRUE(store_->list_audit(q).empty());
  q = {};
  q.key_name = "bob";
  q.limit = 1;
  q.before_id = all[1].id;  // the 5000 entry itself is excluded
  EXPECT_EQ(times_of(store_->list_audit(q)), (std::vector<int64_t>{2000}));

  // Later appends get larger ids.
  store_->append_audit({make_entry(500, "alice")});
  EXPECT_GT(store_->list_audit({})[0].id, all[0].id);
  EXPECT_EQ(store_->list_audit({})[0].time, 500);
}

TEST_P(StoreTest, AuditRejectsBadQueriesAndEntries) {
  AuditQuery q;
  q.limit = 0;
  expect_invalid([&] { store_->list_audit(q); }, "limit");
  q.limit = 10001;
  expect_invalid([&] { store_->list_audit(q); }, "limit");
  q.limit = 10000;
  EXPECT_TRUE(store_->list_audit(q).empty());
  q = {};
  q.since = -1;
  expect_invalid([&] { store_->list_audit(q); }, "since");
  q = {};
  q.before_id = -1;
  expect_invalid([&] { store_->list_audit(q); }, "before_id");
  q = {};
  q.key_name = "ab\xC3\x28";
  expect_invalid([&] { store_->list_audit(q); }, "key_name");

  std::vector<AuditEntry> batch = {make_entry(1, "a"), make_entry(2, "b")};
  batch[1].route = "/x\xC3\x28";
  expect_invalid([&] { store_->append_audit(batch); }, "entries[1] route");
  batch[1] = make_entry(2, "b");
  batch[1].client = std::string("a\0b", 3);
  expect_invalid([&] { store_->append_audit(batch); }, "entries[1] client");
  batch[1] = make_entry(2, "b");
  batch[1].completion_tokens = -1;
  expect_invalid([&] { store_->append_audit(batch); }, "completion_tokens");
  EXPECT_TRUE(store_->list_audit({}).empty());  // nothing of a refused batch is kept

  // Long text is stored as given.
  batch[1] = make_entry(2, "b");
  batch[1].route = "/" + std::string(100000, 'r');
  store_->append_audit(batch);
  EXPECT_EQ(store_->list_audit({})[0].route.size(), 100001u);
}

TEST_P(StoreTest, AuditPruneDeletesOlderEntries) {
  std::vector<AuditEntry> batch;
  for (int i = 1; i <= 5; ++i) batch.push_back(make_entry(1000 * i, "k"));
  store_->append_audit(batch);
  EXPECT_EQ(store_->prune_audit(3000), 2);  // time < 3000
  EXPECT_EQ(times_of(store_->list_audit({})), (std::vector<int64_t>{5000, 4000, 3000}));
  EXPECT_EQ(store_->prune_audit(3000), 0);
  EXPECT_EQ(store_->prune_audit(0), 0);
  EXPECT_EQ(store_->prune_audit(1'000'000), 3);
  EXPECT_TRUE(store_->list_audit({}).empty());
}

// ---- conversation owners -----------------------------------------------------

TEST_P(StoreTest, ConversationOwnerRoundTripsAndFilters) {
  auto make = [&](const std::string& title, const std::string& owner, const std::string& text) {
    Conversation c;
    c.title = title;
    c.owner = owner;
    ChatMessage m;
    m.role = "user";
    m.content = text;
    c.messages.push_back(m);
    return store_->create_conversation(c);
  };
  auto open = make("open", "", "hello world");
  auto mine1 = make("mine one", "7", "hello there");
  auto mine2 = make("mine two", "7", "goodbye");
  auto other = make("other", "12", "hello");
  EXPECT_EQ(mine1.owner, "7");
  EXPECT_EQ(store_->get_conversation(mine1.id)->owner, "7");
  EXPECT_EQ(store_->get_conversation(open.id)->owner, "");
  EXPECT_EQ(store_->get_conversation(other.id)->owner, "12");

  auto titles = [&](ConversationQuery q) {
    auto page = store_->list_conversations(q);
    std::vector<std::string> out;
    for (const auto& c : page.items) out.push_back(c.title + "@" + c.owner);
    EXPECT_EQ(page.total, static_cast<int>(out.size()));
    return out;
  };
  ConversationQuery q;
  EXPECT_EQ(titles(q), (std::vector<std::string>{"other@12", "mine two@7", "mine one@7", "open@"}));
  q.owner = "7";
  EXPECT_EQ(titles(q), (std::vector<std::string>{"mine two@7", "mine one@7"}));
  q.owner = "";
  EXPECT_EQ(titles(q), (std::vector<std::string>{"open@"}));
  q.owner = "1";  // exact, not a prefix
  EXPECT_TRUE(titles(q).empty());
  q.owner = "7";
  q.search = "HELLO";
  EXPECT_EQ(titles(q), (std::vector<std::string>{"mine one@7"}));
  q.search = "hello there";
  q.owner = "12";
  EXPECT_TRUE(titles(q).empty());
  q = {};
  q.owner = "7";
  q.limit = 1;
  q.offset = 1;
  auto page = store_->list_conversations(q);
  EXPECT_EQ(page.total, 2);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, mine1.id);

  // Appending or renaming keeps the owner.
  ChatMessage m;
  m.role = "assistant";
  m.content = "hi";
  store_->append_message(mine1.id, m);
  store_->rename_conversation(mine1.id, "renamed");
  EXPECT_EQ(store_->get_conversation(mine1.id)->owner, "7");

  Conversation bad;
  bad.owner = "ab\xC3\x28";
  expect_invalid([&] { store_->create_conversation(bad); }, "conversation owner");
  q = {};
  q.owner = "ab\xC3\x28";
  expect_invalid([&] { store_->list_conversations(q); }, "owner");
}

// ---- migration -----------------------------------------------------------------

TEST_P(StoreTest, Schema3ConversationsUpgradeWithoutOwner) {
  store_.reset();
  auto older = TestLocation::make(GetParam());
  auto v3 = open_store_at_version(*older, 3);
  EXPECT_EQ(v3->schema_version(), 3);
  v3.reset();
  // A conversation with one message, as schema 3 has them.
  older->exec(
      "INSERT INTO conversations (id, title, model, params_json, created_at, updated_at, touch_seq, "
      "message_count) VALUES ('c3', 'from v3', 'm', '{}', 1, 2, 1, 1)");
  older->exec(
      "INSERT INTO messages (conversation_id, role, content, model, prompt_tokens, completion_tokens, "
      "timings_json, logprobs_json, created_at) VALUES ('c3', 'user', 'kept', '', 0, 0, '{}', '', 2)");
  EXPECT_EQ(older->scalar("SELECT COUNT(*) FROM schema_migrations"), "3");
  const std::string id = "c3";

  auto migrated = open_store(older->location());
  EXPECT_EQ(migrated->schema_version(), sqlite_migrations().back().version);
  auto got = migrated->get_conversation(id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->title, "from v3");
  EXPECT_EQ(got->owner, "");
  EXPECT_EQ(got->message_count, 1);
  ASSERT_EQ(got->messages.size(), 1u);
  EXPECT_EQ(got->messages[0].content, "kept");
  ConversationQuery q;
  q.owner = "";
  EXPECT_EQ(migrated->list_conversations(q).total, 1);
  // The new tables work on the upgraded database.
  EXPECT_GT(migrated->create_api_key(make_key("k", 1)).id, 0);
  migrated->append_audit({make_entry(1, "k")});
  EXPECT_EQ(migrated->list_audit({}).size(), 1u);
}

}  // namespace
}  // namespace rmm::store::test
