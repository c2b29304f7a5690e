#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "core/error.hpp"
#include "store/migrations.hpp"
#include "store_test_fixture.hpp"

namespace rmm::store::test {
namespace {

// Every character class that has broken SQL or JSON handling somewhere.
const std::string kOdd =
    "it's \"quoted\"; DROP TABLE conversations; -- 100% _x_ back\\slash \\0 tab\there\nnewline "
    "emoji \xF0\x9F\x98\x80 flag \xF0\x9F\x87\xA9\xF0\x9F\x87\xAA cjk \xE4\xB8\xAD\xE6\x96\x87 "
    "rtl \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D zw\xE2\x80\x8Bj e\xCC\x81 max \xF4\x8F\xBF\xBF $1 ?1 :x @y";
const std::string kBadUtf8 = "ab\xC3\x28";

// A JSON string literal for `s` (the store tests do not need a JSON library).
std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", ch);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

int latest_version() { return sqlite_migrations().back().version; }

TemplateVersion make_template(const std::string& id, const std::string& name, const std::string& body) {
  TemplateVersion t;
  t.id = id;
  t.name = name;
  t.description = "about " + name;
  t.tags = {"x", "y"};
  t.body_json = body;
  return t;
}

ChatMessage make_message(const std::string& role, const std::string& content) {
  ChatMessage m;
  m.role = role;
  m.content = content;
  return m;
}

// ---- templates ---------------------------------------------------------------

TEST_P(StoreTest, ModelFoldersAreKeptOnceInTheOrderAdded) {
  EXPECT_TRUE(store_->list_model_folders().empty());
  EXPECT_TRUE(store_->add_model_folder({"/data/lmstudio", 100}));
  EXPECT_TRUE(store_->add_model_folder({"/data/downloads", 200}));
  EXPECT_FALSE(store_->add_model_folder({"/data/lmstudio", 300})) << "a folder is kept once";
  auto all = store_->list_model_folders();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].path, "/data/lmstudio");
  EXPECT_EQ(all[0].added_at, 100);
  EXPECT_EQ(all[1].path, "/data/downloads");
  EXPECT_TRUE(store_->remove_model_folder("/data/lmstudio"));
  EXPECT_FALSE(store_->remove_model_folder("/data/lmstudio"));
  all = store_->list_model_folders();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].path, "/data/downloads");
  EXPECT_THROW(store_->add_model_folder({"", 1}), Error);
}

TEST_P(StoreTest, TemplateSavesNewVersions) {
  auto v1 =
      store_->save_template(make_template("greet", "Greeter", R"({"id":"greet","blocks":[1],"version":7})"));
  EXPECT_EQ(v1.version, 1);
  EXPECT_GT(v1.created_at, 0);
  EXPECT_NE(v1.body_json.find("\"version\":1"), std::string::npos) << v1.body_json;
  auto v2 = store_->save_template(make_template("greet", "Greeter 2", R"({"blocks":[2]})"));
  auto v3 = store_->save_template(make_template("greet", "Greeter 3", ""));
  EXPECT_EQ(v2.version, 2);
  EXPECT_EQ(v3.version, 3);
  EXPECT_EQ(v3.body_json, R"({"version":3})");

  auto latest = store_->get_template("greet");
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->version, 3);
  EXPECT_EQ(latest->name, "Greeter 3");
  auto second = store_->get_template("greet", 2);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->name, "Greeter 2");
  EXPECT_EQ(second->body_json, v2.body_json);
  EXPECT_EQ(second->tags, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(second->description, "about Greeter 2");
  EXPECT_EQ(second->created_at, v2.created_at);
  EXPECT_FALSE(store_->get_template("greet", 9));
  EXPECT_FALSE(store_->get_template("nope"));

  auto versions = store_->template_versions("greet");
  ASSERT_EQ(versions.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(versions[static_cast<size_t>(i)].version, i + 1);
  EXPECT_TRUE(store_->template_versions("nope").empty());
}

TEST_P(StoreTest, TemplateListHasLatestOfEachByName) {
  store_->save_template(make_template("b", "Beta", "{}"));
  store_->save_template(make_template("b", "Beta", "{}"));
  store_->save_template(make_template("a", "Alpha", "{}"));
  store_->save_template(make_template("c", "alpha lower", "{}"));  // byte order: lowercase after uppercase
  auto list = store_->list_templates();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].id, "a");
  EXPECT_EQ(list[1].id, "b");
  EXPECT_EQ(list[1].version, 2);
  EXPECT_EQ(list[2].id, "c");
}

TEST_P(StoreTest, TemplateDeleteRemovesAllVersions) {
  store_->save_template(make_template("gone", "G", "{}"));
  store_->save_template(make_template("gone", "G", "{}"));
  store_->save_template(make_template("kept", "K", "{}"));
  EXPECT_TRUE(store_->delete_template("gone"));
  EXPECT_FALSE(store_->get_template("gone"));
  EXPECT_TRUE(store_->template_versions("gone").empty());
  EXPECT_FALSE(store_->delete_template("gone"));
  EXPECT_TRUE(store_->get_template("kept"));
  // A new save under a deleted id starts over.
  EXPECT_EQ(store_->save_template(make_template("gone", "G", "{}")).version, 1);
}

TEST_P(StoreTest, TemplateIdIsAssignedAndBodyMustBeAnObject) {
  auto t = store_->save_template(make_template("", "Anonymous", "{}"));
  EXPECT_EQ(t.id.size(), 32u);
  EXPECT_EQ(t.id.find_first_not_of("0123456789abcdef"), std::string::npos);
  expect_invalid([&] { store_->save_template(make_template("x", "X", "[1,2]")); }, "body_json");
  expect_invalid([&] { store_->save_template(make_template("x", "X", "{not json")); }, "body_json");
  EXPECT_FALSE(store_->get_template("x"));
}

// ---- conversations -------------------------------------------------------------

TEST_P(StoreTest, ConversationAppendAndGetInOrder) {
  Conversation c;
  c.title = "First chat";
  c.model = "stories15M";
  c.params_json = R"({"temperature":0.5})";
  auto created = store_->create_conversation(c);
  EXPECT_EQ(created.id.size(), 32u);
  EXPECT_GT(created.created_at, 0);
  EXPECT_EQ(created.updated_at, created.created_at);

  ChatMessage answer = make_message("assistant", "Hello there");
  answer.model = "stories15M";
  answer.prompt_tokens = 12;
  answer.completion_tokens = 3;
  answer.timings_json = R"({"predicted_ms":1.5})";
  answer.logprobs_json = R"([{"token":"Hello","logprob":-0.1}])";
  auto m1 = store_->append_message(created.id, make_message("system", "Be brief."));
  auto m2 = store_->append_message(created.id, make_message("user", "Hi"));
  auto m3 = store_->append_message(created.id, answer);
  EXPECT_LT(m1.id, m2.id);
  EXPECT_LT(m2.id, m3.id);
  EXPECT_GT(m3.created_at, 0);

  auto got = store_->get_conversation(created.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->title, "First chat");
  EXPECT_EQ(got->model, "stories15M");
  EXPECT_EQ(got->params_json, c.params_json);
  EXPECT_EQ(got->message_count, 3);
  EXPECT_GE(got->updated_at, got->created_at);
  ASSERT_EQ(got->messages.size(), 3u);
  EXPECT_EQ(got->messages[0].role, "system");
  EXPECT_EQ(got->messages[1].content, "Hi");
  const ChatMessage& m = got->messages[2];
  EXPECT_EQ(m.id, m3.id);
  EXPECT_EQ(m.role, "assistant");
  EXPECT_EQ(m.content, "Hello there");
  EXPECT_EQ(m.model, "stories15M");
  EXPECT_EQ(m.prompt_tokens, 12);
  EXPECT_EQ(m.completion_tokens, 3);
  EXPECT_EQ(m.timings_json, answer.timings_json);
  EXPECT_EQ(m.logprobs_json, answer.logprobs_json);
  EXPECT_EQ(m.created_at, m3.created_at);
}

TEST_P(StoreTest, ConversationMissingIds) {
  EXPECT_FALSE(store_->get_conversation("missing"));
  EXPECT_FALSE(store_->rename_conversation("missing", "t"));
  EXPECT_FALSE(store_->delete_conversation("missing"));
  try {
    store_->append_message("missing", make_message("user", "x"));
    ADD_FAILURE() << "append to a missing conversation succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  }
}

TEST_P(StoreTest, ConversationWithIdAndMessages) {
  Conversation c;
  c.id = "chosen-id";
  c.messages = {make_message("user", "one"), make_message("assistant", "two")};
  auto created = store_->create_conversation(c);
  EXPECT_EQ(created.id, "chosen-id");
  EXPECT_EQ(created.message_count, 2);
  ASSERT_EQ(created.messages.size(), 2u);
  EXPECT_LT(created.messages[0].id, created.messages[1].id);
  auto got = store_->get_conversation("chosen-id");
  ASSERT_TRUE(got);
  ASSERT_EQ(got->messages.size(), 2u);
  EXPECT_EQ(got->messages[1].content, "two");
  expect_invalid([&] { store_->create_conversation(c); }, "already exists");
  EXPECT_EQ(store_->get_conversation("chosen-id")->message_count, 2);
}

TEST_P(StoreTest, ListNewestFirstWithPaging) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    Conversation c;
    c.title = "chat " + std::to_string(i);
    ids.push_back(store_->create_conversation(c).id);
  }
  store_->append_message(ids[1], make_message("user", "bump"));  // now the newest
  auto page = store_->list_conversations(conversation_query("", 2, 0));
  EXPECT_EQ(page.total, 5);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].id, ids[1]);
  EXPECT_EQ(page.items[0].message_count, 1);
  EXPECT_TRUE(page.items[0].messages.empty());
  EXPECT_EQ(page.items[1].id, ids[4]);
  page = store_->list_conversations(conversation_query("", 2, 2));
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].id, ids[3]);
  EXPECT_EQ(page.items[1].id, ids[2]);
  page = store_->list_conversations(conversation_query("", 2, 4));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, ids[0]);
  page = store_->list_conversations(conversation_query("", 200, 10));
  EXPECT_TRUE(page.items.empty());
  EXPECT_EQ(page.total, 5);
}

TEST_P(StoreTest, ListRejectsBadLimits) {
  expect_invalid([&] { store_->list_conversations(conversation_query("", 0, 0)); }, "limit");
  expect_invalid([&] { store_->list_conversations(conversation_query("", 201, 0)); }, "limit");
  expect_invalid([&] { store_->list_conversations(conversation_query("", 10, -1)); }, "offset");
  expect_invalid([&] { store_->list_conversations(conversation_query(kBadUtf8, 10, 0)); }, "search");
}

TEST_P(StoreTest, SearchNeedsEveryWordInTitleOrMessages) {
  auto add = [&](const std::string& title, const std::vector<std::string>& contents) {
    Conversation c;
    c.title = title;
    for (const auto& text : contents) c.messages.push_back(make_message("user", text));
    return store_->create_conversation(c).id;
  };
  const std::string cooking = add("Cooking Pasta", {"how long to boil WATER?", "ten minutes"});
  const std::string travel = add("Travel", {"Best pasta in Rome", "50% off: a_b"});
  const std::string other = add("Other \xC3\x89t\xC3\xA9", {"nothing \xF0\x9F\x98\x80 here"});
  auto ids = [&](const std::string& search) {
    auto page = store_->list_conversations(conversation_query(search, 50, 0));
    std::set<std::string> out;
    for (const auto& c : page.items) out.insert(c.id);
    EXPECT_EQ(page.total, static_cast<int>(out.size())) << search;
    return out;
  };
  EXPECT_EQ(ids("pasta"), (std::set<std::string>{cooking, travel}));
  EXPECT_EQ(ids("PASTA water"), (std::set<std::string>{cooking}));  // one word in the title, one in a message
  EXPECT_EQ(ids("  rome\tpasta "), (std::set<std::string>{travel}));
  EXPECT_EQ(ids("pasta xyz"), (std::set<std::string>{}));
  EXPECT_EQ(ids("50%"), (std::set<std::string>{travel}));
  EXPECT_EQ(ids("5_%"), (std::set<std::string>{}));  // no wildcards: % and _ are plain characters
  EXPECT_EQ(ids("a_b"), (std::set<std::string>{travel}));
  EXPECT_EQ(ids("axb"), (std::set<std::string>{}));
  EXPECT_EQ(ids("\xF0\x9F\x98\x80"), (std::set<std::string>{other}));
  EXPECT_EQ(ids("\xC3\x89t\xC3\xA9"), (std::set<std::string>{other}));
  // Case folding is ASCII only, the same in both back ends.
  EXPECT_EQ(ids("\xC3\xA9t\xC3\xA9"), (std::set<std::string>{}));
  EXPECT_EQ(ids("").size(), 3u);
  auto page = store_->list_conversations(conversation_query("pasta", 1, 1));
  EXPECT_EQ(page.total, 2);
  EXPECT_EQ(page.items.size(), 1u);
}

TEST_P(StoreTest, RenameAndDeleteCascades) {
  Conversation c;
  c.title = "old";
  c.messages = {make_message("user", "a"), make_message("assistant", "b")};
  auto id = store_->create_conversation(c).id;
  Conversation other;
  other.messages = {make_message("user", "stays")};
  auto other_id = store_->create_conversation(other).id;
  EXPECT_TRUE(store_->rename_conversation(id, "new title"));
  EXPECT_EQ(store_->get_conversation(id)->title, "new title");
  EXPECT_EQ(loc_->scalar("SELECT COUNT(*) FROM messages WHERE conversation_id = '" + id + "'"), "2");
  EXPECT_TRUE(store_->delete_conversation(id));
  EXPECT_FALSE(store_->get_conversation(id));
  EXPECT_EQ(loc_->scalar("SELECT COUNT(*) FROM messages WHERE conversation_id = '" + id + "'"), "0");
  EXPECT_EQ(store_->get_conversation(other_id)->messages.size(), 1u);
  EXPECT_EQ(store_->list_conversations({}).total, 1);
}

TEST_P(StoreTest, ConcurrentAppendsKeepEveryMessage) {
  auto id = store_->create_conversation({}).id;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i)
        store_->append_message(id, make_message("user", std::to_string(t * 100 + i)));
    });
  }
  for (auto& th : threads) th.join();
  auto got = store_->get_conversation(id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->message_count, 40);
  ASSERT_EQ(got->messages.size(), 40u);
  std::set<std::string> contents;
  for (size_t i = 0; i < got->messages.size(); ++i) {
    contents.insert(got->messages[i].content);
    if (i > 0) {
      EXPECT_LT(got->messages[i - 1].id, got->messages[i].id);
    }
  }
  EXPECT_EQ(contents.size(), 40u);
}

TEST_P(StoreTest, TwoStoresShareOneDatabase) {
  // As `rmm serve` and the CLI would: separate connections, writing at once.
  auto second = open_store(loc_->location());
  auto a = store_->create_conversation({}).id;
  auto b = second->create_conversation({}).id;
  std::thread other([&] {
    for (int i = 0; i < 15; ++i) second->append_message(a, make_message("user", "from second"));
  });
  for (int i = 0; i < 15; ++i) store_->append_message(b, make_message("user", "from first"));
  other.join();
  EXPECT_EQ(second->get_conversation(b)->message_count, 15);
  EXPECT_EQ(store_->get_conversation(a)->messages.size(), 15u);
  EXPECT_EQ(store_->list_conversations({}).total, 2);
}

// ---- cache ---------------------------------------------------------------------

TEST_P(StoreTest, CachePutGetCountsHits) {
  const CacheLimits none;
  store_->cache_put("k1", R"({"text":"hi"})", none);
  auto e = store_->cache_get("k1", none);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "k1");
  EXPECT_EQ(e->value_json, R"({"text":"hi"})");
  EXPECT_EQ(e->hits, 1);
  EXPECT_GT(e->created_at, 0);
  EXPECT_EQ(store_->cache_get("k1", none)->hits, 2);
  EXPECT_FALSE(store_->cache_get("k2", none));
  store_->cache_put("k1", "[1]", none);  // replaces, hits start over
  e = store_->cache_get("k1", none);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->value_json, "[1]");
  EXPECT_EQ(e->hits, 1);
  store_->cache_put("k2", "12345", none);
  EXPECT_EQ(store_->cache_bytes(), 8);
  store_->cache_clear();
  EXPECT_EQ(store_->cache_bytes(), 0);
  EXPECT_FALSE(store_->cache_get("k1", none));
}

TEST_P(StoreTest, CacheEntriesExpire) {
  store_->cache_put("old", "1", {});
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  store_->cache_put("new", "2", {});
  EXPECT_FALSE(store_->cache_get("old", {30, 0}));
  EXPECT_TRUE(store_->cache_get("new", {30, 0}));
  EXPECT_EQ(store_->cache_bytes(), 1);  // the expired entry is gone, not just hidden
  EXPECT_TRUE(store_->cache_get("new", {0, 0}));
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  store_->cache_put("newest", "3", {30, 0});  // a put also clears out the expired
  EXPECT_EQ(store_->cache_bytes(), 1);
}

TEST_P(StoreTest, CacheTrimsLeastRecentlyUsed) {
  const std::string ten(10, 'v');
  const CacheLimits limit{0, 30};
  store_->cache_put("a", ten, limit);
  store_->cache_put("b", ten, limit);
  store_->cache_put("c", ten, limit);
  EXPECT_EQ(store_->cache_bytes(), 30);
  ASSERT_TRUE(store_->cache_get("a", limit));  // a is now more recent than b
  store_->cache_put("d", ten, limit);
  EXPECT_EQ(store_->cache_bytes(), 30);
  EXPECT_FALSE(store_->cache_get("b", limit));
  EXPECT_TRUE(store_->cache_get("a", limit));
  EXPECT_TRUE(store_->cache_get("c", limit));
  EXPECT_TRUE(store_->cache_get("d", limit));
  store_->cache_put("big", std::string(25, 'x'), limit);  // leaves room for nothing else
  EXPECT_EQ(store_->cache_bytes(), 25);
  EXPECT_TRUE(store_->cache_get("big", limit));
  store_->cache_put("huge", std::string(31, 'x'), limit);  // larger than the limit: not kept
  EXPECT_EQ(store_->cache_bytes(), 0);
}

TEST_P(StoreTest, CacheRejectsBadInput) {
  expect_invalid([&] { store_->cache_put("", "{}", {}); }, "cache key");
  expect_invalid([&] { store_->cache_put(kBadUtf8, "{}", {}); }, "cache key");
  expect_invalid([&] { store_->cache_put("k", kBadUtf8, {}); }, "value_json");
  expect_invalid([&] { store_->cache_put("k", "{}", {-1, 0}); }, "ttl_ms");
  expect_invalid([&] { store_->cache_get("k", {0, -1}); }, "max_bytes");
}

// ---- text handling -------------------------------------------------------------

TEST_P(StoreTest, OddTextRoundTripsInEveryField) {
  TemplateVersion t = make_template(kOdd, kOdd, "");
  t.tags = {kOdd, "", "\xF0\x9F\x98\x80"};
  t.body_json = "{\"text\":" + json_quote(kOdd) + "}";
  auto saved = store_->save_template(t);
  auto got_t = store_->get_template(kOdd);
  ASSERT_TRUE(got_t);
  EXPECT_EQ(got_t->id, kOdd);
  EXPECT_EQ(got_t->name, kOdd);
  EXPECT_EQ(got_t->description, "about " + kOdd);
  EXPECT_EQ(got_t->tags, t.tags);
  EXPECT_EQ(got_t->body_json, saved.body_json);
  EXPECT_EQ(store_->list_templates().at(0).name, kOdd);
  EXPECT_EQ(store_->template_versions(kOdd).size(), 1u);

  Conversation c;
  c.id = kOdd;
  c.title = kOdd;
  c.model = kOdd;
  c.params_json = kOdd;
  ChatMessage m = make_message("tool", kOdd);
  m.model = kOdd;
  m.timings_json = kOdd;
  m.logprobs_json = kOdd;
  c.messages = {m};
  store_->create_conversation(c);
  auto got = store_->get_conversation(kOdd);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, kOdd);
  EXPECT_EQ(got->title, kOdd);
  EXPECT_EQ(got->model, kOdd);
  EXPECT_EQ(got->params_json, kOdd);
  ASSERT_EQ(got->messages.size(), 1u);
  EXPECT_EQ(got->messages[0].content, kOdd);
  EXPECT_EQ(got->messages[0].model, kOdd);
  EXPECT_EQ(got->messages[0].timings_json, kOdd);
  EXPECT_EQ(got->messages[0].logprobs_json, kOdd);
  EXPECT_EQ(
      store_->list_conversations(conversation_query("drop conversations; -- 100% \\0 $1 ?1", 10, 0)).total,
      1);
  EXPECT_TRUE(store_->rename_conversation(kOdd, kOdd + kOdd));
  EXPECT_EQ(store_->get_conversation(kOdd)->title, kOdd + kOdd);

  store_->cache_put(kOdd, kOdd, {});
  auto e = store_->cache_get(kOdd, {});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, kOdd);
  EXPECT_EQ(e->value_json, kOdd);

  EXPECT_TRUE(store_->delete_conversation(kOdd));
  EXPECT_TRUE(store_->delete_template(kOdd));
}

TEST_P(StoreTest, InvalidTextIsRejectedNamingTheField) {
  Conversation c;
  c.title = kBadUtf8;
  expect_invalid([&] { store_->create_conversation(c); }, "title");
  c.title = "ok";
  c.params_json = kBadUtf8;
  expect_invalid([&] { store_->create_conversation(c); }, "params_json");
  c.params_json = "{}";
  c.messages = {make_message("user", kBadUtf8)};
  expect_invalid([&] { store_->create_conversation(c); }, "messages[0] content");
  EXPECT_EQ(store_->list_conversations({}).total, 0);

  auto id = store_->create_conversation({}).id;
  expect_invalid([&] { store_->append_message(id, make_message("user", kBadUtf8)); }, "content");
  expect_invalid([&] { store_->append_message(id, make_message("user", std::string("a\0b", 3))); }, "NUL");
  expect_invalid([&] { store_->append_message(id, make_message("robot", "x")); }, "role");
  ChatMessage m = make_message("assistant", "x");
  m.timings_json = kBadUtf8;
  expect_invalid([&] { store_->append_message(id, m); }, "timings_json");
  m.timings_json = "{}";
  m.completion_tokens = -1;
  expect_invalid([&] { store_->append_message(id, m); }, "completion_tokens");
  expect_invalid([&] { store_->rename_conversation(id, kBadUtf8); }, "title");
  EXPECT_EQ(store_->get_conversation(id)->message_count, 0);

  expect_invalid([&] { store_->save_template(make_template("t", kBadUtf8, "{}")); }, "template name");
  auto t = make_template("t", "T", "{}");
  t.tags = {"fine", kBadUtf8};
  expect_invalid([&] { store_->save_template(t); }, "tags[1]");
  expect_invalid([&] { store_->save_template(make_template("t", "T", "{\"a\":\"" + kBadUtf8 + "\"}")); },
                 "body_json");
  EXPECT_TRUE(store_->list_templates().empty());
}

// ---- migrations ----------------------------------------------------------------

TEST_P(StoreTest, FreshStoreIsAtTheLatestVersionAndReopeningChangesNothing) {
  EXPECT_EQ(latest_version(), postgres_migrations().back().version);
  EXPECT_EQ(store_->schema_version(), latest_version());
  EXPECT_EQ(store_->backend(), GetParam());
  auto id = store_->create_conversation({}).id;
  store_.reset();
  store_ = open_store(loc_->location());
  EXPECT_EQ(store_->schema_version(), latest_version());
  EXPECT_EQ(loc_->scalar("SELECT COUNT(*) FROM schema_migrations"), std::to_string(latest_version()));
  EXPECT_TRUE(store_->get_conversation(id));
}

TEST_P(StoreTest, OlderSchemaIsMigratedOnOpen) {
  store_.reset();
  auto older = TestLocation::make(GetParam());
  auto v1 = open_store_at_version(*older, 1);
  EXPECT_EQ(v1->schema_version(), 1);
  v1.reset();
  // A row as schema 1 has it (the store's code writes the latest schema's columns).
  const std::string id = "c1";
  older->exec(
      "INSERT INTO conversations (id, title, model, params_json, created_at, updated_at, touch_seq) VALUES "
      "('c1', 'from v1', '', '{}', 1, 1, 1)");
  auto migrated = open_store(older->location());
  EXPECT_EQ(migrated->schema_version(), latest_version());
  EXPECT_EQ(migrated->get_conversation(id)->title, "from v1");
  migrated->cache_put("k", "v", {});
  EXPECT_TRUE(migrated->cache_get("k", {}));
}

TEST_P(StoreTest, NewerSchemaIsRefused) {
  store_.reset();
  loc_->exec("INSERT INTO schema_migrations (version, what, applied_at) VALUES (99, 'from the future', 0)");
  try {
    open_store(loc_->location());
    ADD_FAILURE() << "opened a database newer than this binary";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadFile);
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("99"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgres"), backend_name);

}  // namespace
}  // namespace rmm::store::test
