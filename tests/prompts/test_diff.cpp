// Diffs between two versions: fields, blocks by index, variables by name.
#include <gtest/gtest.h>

#include "prompts/diff.hpp"

using namespace rmm::prompts;
using json = nlohmann::json;

TEST(PromptDiff, ReportsWhatChanged) {
  Template a = parse_template(json::parse(R"({"id": "d", "name": "D", "tags": ["x"],
    "blocks": [{"type": "system", "text": "S"}, {"type": "user", "text": "{{q}}"}, {"type": "user", "text": "bye"}],
    "variables": [{"name": "q", "default": "hi"}, {"name": "old"}]})"));
  a.version = 1;
  Template b = parse_template(json::parse(R"({"id": "d", "name": "D2", "tags": ["x"],
    "blocks": [{"type": "system", "text": "S"}, {"type": "user", "text": "{{q}}!"}],
    "variables": [{"name": "q", "default": "hello"}, {"name": "new", "type": "boolean"}]})"));
  b.version = 2;
  const json d = diff(a, b);
  EXPECT_EQ(d["from"], 1);
  EXPECT_EQ(d["to"], 2);
  EXPECT_EQ(d["fields"], json::parse(R"({"name": {"old": "D", "new": "D2"}})"));
  EXPECT_TRUE(d["blocks"]["added"].empty());
  ASSERT_EQ(d["blocks"]["removed"].size(), 1u);
  EXPECT_EQ(d["blocks"]["removed"][0]["index"], 2);
  ASSERT_EQ(d["blocks"]["changed"].size(), 1u);
  EXPECT_EQ(d["blocks"]["changed"][0]["index"], 1);
  EXPECT_EQ(d["blocks"]["changed"][0]["old"]["text"], "{{q}}");
  EXPECT_EQ(d["blocks"]["changed"][0]["new"]["text"], "{{q}}!");
  ASSERT_EQ(d["variables"]["added"].size(), 1u);
  EXPECT_EQ(d["variables"]["added"][0]["name"], "new");
  ASSERT_EQ(d["variables"]["removed"].size(), 1u);
  EXPECT_EQ(d["variables"]["removed"][0]["name"], "old");
  ASSERT_EQ(d["variables"]["changed"].size(), 1u);
  EXPECT_EQ(d["variables"]["changed"][0]["new"]["default"], "hello");

  const json same = diff(a, a);
  EXPECT_TRUE(same["fields"].empty());
  EXPECT_TRUE(same["blocks"]["changed"].empty());
  EXPECT_TRUE(same["variables"]["changed"].empty());
  // Reversed, the added block comes back.
  EXPECT_EQ(diff(b, a)["blocks"]["added"][0]["index"], 2);
}
