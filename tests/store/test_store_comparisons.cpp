// Saved Prompt Architect comparisons (schema step 8) in both back ends:
// create, read, list newest first with paging and owners, update, delete,
// the bounds on what is kept, and the upgrade from schema 7.
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/json_limits.hpp"
#include "store/migrations.hpp"
#include "store_test_fixture.hpp"

namespace rmm::store::test {
namespace {

Comparison comparison(const std::string& title, const std::string& owner = "",
                      const std::string& body = R"({"models":["a","b"],"results":[{"ttft_ms":12.5}]})") {
  Comparison c;
  c.title = title;
  c.owner = owner;
  c.kind = "models";
  c.template_id = "summarize";
  c.body_json = body;
  return c;
}

ComparisonQuery page(int limit, int offset, std::optional<std::string> owner = std::nullopt) {
  ComparisonQuery q;
  q.limit = limit;
  q.offset = offset;
  q.owner = std::move(owner);
  return q;
}

std::vector<std::string> titles(const ComparisonPage& p) {
  std::vector<std::string> out;
  for (const auto& c : p.items) out.push_back(c.title);
  return out;
}

TEST_P(StoreTest, ComparisonsRoundTrip) {
  const auto made = store_->create_comparison(comparison("first"));
  EXPECT_EQ(made.id.size(), 32u);
  EXPECT_EQ(made.id.find_first_not_of("0123456789abcdef"), std::string::npos) << made.id;
  EXPECT_GT(made.created_at, 0);
  EXPECT_EQ(made.updated_at, made.created_at);
  const auto got = store_->get_comparison(made.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, made.id);
  EXPECT_EQ(got->title, "first");
  EXPECT_EQ(got->owner, "");
  EXPECT_EQ(got->kind, "models");
  EXPECT_EQ(got->template_id, "summarize");
  EXPECT_EQ(got->body_json, comparison("").body_json);
  EXPECT_EQ(got->created_at, made.created_at);
  EXPECT_FALSE(store_->get_comparison("0123456789abcdef0123456789abcdef"));

  // A given id is kept; the same one again is refused. An empty body is {}.
  Comparison named = comparison("named");
  named.id = "my-id";
  named.kind = "versions";
  named.template_id = "";
  named.body_json = "";
  EXPECT_EQ(store_->create_comparison(named).body_json, "{}");
  EXPECT_EQ(store_->get_comparison("my-id")->kind, "versions");
  expect_invalid([&] { store_->create_comparison(named); }, "already exists");
}

TEST_P(StoreTest, ComparisonsListNewestFirstWithPagingAndOwners) {
  for (int i = 0; i < 5; ++i)
    store_->create_comparison(comparison("c" + std::to_string(i), i % 2 ? "7" : ""));
  const auto all = store_->list_comparisons(page(50, 0));
  EXPECT_EQ(all.total, 5);
  EXPECT_EQ(titles(all), (std::vector<std::string>{"c4", "c3", "c2", "c1", "c0"}));
  for (const auto& c : all.items) {
    EXPECT_TRUE(c.body_json.empty()) << "lists carry no bodies";
    EXPECT_EQ(c.kind, "models");
    EXPECT_EQ(c.template_id, "summarize");
  }
  const auto second = store_->list_comparisons(page(2, 2));
  EXPECT_EQ(second.total, 5);
  EXPECT_EQ(titles(second), (std::vector<std::string>{"c2", "c1"}));
  EXPECT_TRUE(store_->list_comparisons(page(2, 6)).items.empty());
  const auto sevens = store_->list_comparisons(page(50, 0, "7"));
  EXPECT_EQ(sevens.total, 2);
  EXPECT_EQ(titles(sevens), (std::vector<std::string>{"c3", "c1"}));
  const auto open = store_->list_comparisons(page(1, 1, ""));
  EXPECT_EQ(open.total, 3);
  EXPECT_EQ(titles(open), (std::vector<std::string>{"c2"}));
  EXPECT_EQ(store_->list_comparisons(page(50, 0, "8")).total, 0);
  expect_invalid([&] { store_->list_comparisons(page(0, 0)); }, "limit");
  expect_invalid([&] { store_->list_comparisons(page(201, 0)); }, "limit");
  expect_invalid([&] { store_->list_comparisons(page(1, -1)); }, "offset");
}

TEST_P(StoreTest, ComparisonsUpdateTitleAndBodyAndDelete) {
  const auto made = store_->create_comparison(comparison("before"));
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  const auto renamed = store_->update_comparison(made.id, std::string("after"), std::nullopt);
  ASSERT_TRUE(renamed);
  EXPECT_EQ(renamed->title, "after");
  EXPECT_EQ(renamed->body_json, made.body_json);
  EXPECT_EQ(renamed->created_at, made.created_at);
  EXPECT_GT(renamed->updated_at, made.created_at);
  const auto rebodied = store_->update_comparison(made.id, std::nullopt, std::string(R"({"results":[]})"));
  ASSERT_TRUE(rebodied);
  EXPECT_EQ(rebodied->title, "after");
  EXPECT_EQ(rebodied->body_json, R"({"results":[]})");
  const auto both = store_->update_comparison(made.id, std::string(""), std::string(""));
  EXPECT_EQ(both->title, "");
  EXPECT_EQ(both->body_json, "{}");
  EXPECT_EQ(store_->get_comparison(made.id)->body_json, "{}");
  EXPECT_FALSE(store_->update_comparison("nope", std::string("x"), std::nullopt));
  expect_invalid([&] { store_->update_comparison(made.id, std::nullopt, std::string("[1]")); }, "body_json");

  EXPECT_TRUE(store_->delete_comparison(made.id));
  EXPECT_FALSE(store_->delete_comparison(made.id));
  EXPECT_FALSE(store_->get_comparison(made.id));
  EXPECT_EQ(store_->list_comparisons(page(50, 0)).total, 0);
}

TEST_P(StoreTest, ComparisonsAreBounded) {
  Comparison c = comparison("t");
  c.kind = "tables";
  expect_invalid([&] { store_->create_comparison(c); }, "kind");
  c = comparison(std::string(kMaxComparisonTitleBytes + 1, 'x'));
  expect_invalid([&] { store_->create_comparison(c); }, "title");
  EXPECT_NO_THROW(store_->create_comparison(comparison(std::string(kMaxComparisonTitleBytes, 'x'))));
  c = comparison("t");
  c.template_id = std::string(kMaxComparisonTemplateIdBytes + 1, 'a');
  expect_invalid([&] { store_->create_comparison(c); }, "template_id");
  for (const std::string body : {"[]", "\"text\"", "{\"a\":", "{} {}", "not json", "   "}) {
    expect_invalid([&] { store_->create_comparison(comparison("t", "", body)); }, "body_json");
  }
  std::string deep;
  for (int i = 0; i < kMaxJsonDepth + 1; ++i) deep += i == 0 ? "{\"a\":" : "[";
  deep += "0";
  for (int i = kMaxJsonDepth; i >= 0; --i) deep += i == 0 ? "}" : "]";
  expect_invalid([&] { store_->create_comparison(comparison("t", "", deep)); }, "body_json");
  // The largest body kept, and one byte more.
  const std::string pad = R"({"x":")";
  std::string big = pad + std::string(kMaxComparisonBodyBytes - pad.size() - 2, 'y') + "\"}";
  ASSERT_EQ(big.size(), kMaxComparisonBodyBytes);
  const auto kept = store_->create_comparison(comparison("big", "", big));
  EXPECT_EQ(store_->get_comparison(kept.id)->body_json.size(), kMaxComparisonBodyBytes);
  big.insert(pad.size(), "y");
  expect_invalid([&] { store_->create_comparison(comparison("t", "", big)); }, "body_json");
  expect_invalid([&] { store_->update_comparison(kept.id, std::nullopt, big); }, "body_json");
  const std::string bad_utf8 = "\xff";
  expect_invalid([&] { store_->create_comparison(comparison(bad_utf8)); }, "title");
  expect_invalid([&] { store_->create_comparison(comparison("t", "", "{\"a\":\"" + bad_utf8 + "\"}")); },
                 "body_json");
  EXPECT_EQ(store_->list_comparisons(page(50, 0)).total, 2);
}

TEST_P(StoreTest, Schema7UpgradesWithAnEmptyComparisonsTable) {
  store_.reset();
  auto older = TestLocation::make(GetParam());
  auto v7 = open_store_at_version(*older, 7);
  EXPECT_EQ(v7->schema_version(), 7);
  Conversation conv;
  conv.title = "kept";
  const std::string id = v7->create_conversation(conv).id;
  v7.reset();
  auto migrated = open_store(older->location());
  EXPECT_EQ(migrated->schema_version(), sqlite_migrations().back().version);
  EXPECT_EQ(migrated->get_conversation(id)->title, "kept");
  EXPECT_EQ(migrated->list_comparisons(page(50, 0)).total, 0);
  const auto made = migrated->create_comparison(comparison("after the upgrade"));
  EXPECT_EQ(migrated->get_comparison(made.id)->title, "after the upgrade");
  EXPECT_EQ(older->scalar("SELECT what FROM schema_migrations WHERE version = 8"),
            "saved prompt comparisons");
}

}  // namespace
}  // namespace rmm::store::test
