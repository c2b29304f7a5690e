// Conversation exports (serving/chat_export): the JSON has every branch and
// fork; the Markdown the branch in view, with an unclosed code fence closed.
#include <gtest/gtest.h>

#include "serving/chat_export.hpp"

namespace rmm::serving {
namespace {

store::ChatMessage message(int64_t id, int64_t parent, const char* role, const char* content) {
  store::ChatMessage m;
  m.id = id;
  m.parent_id = parent;
  m.role = role;
  m.content = content;
  return m;
}

store::Conversation sample() {
  store::Conversation c;
  c.id = "abc/1";
  c.title = "Two\nlines";
  c.model = "m";
  c.current_leaf = 3;
  c.messages.push_back(message(1, 0, "user", "hi"));
  c.messages.push_back(message(2, 1, "assistant", "first answer"));
  c.messages.push_back(message(3, 1, "assistant", "```\nunclosed"));
  c.messages.back().fork_of = 2;
  c.messages.back().fork_at = 4;
  c.messages.back().logprobs_json =
      R"([{"index":0,"token_id":7,"text":"x","logprob":-0.5,"alternatives":[],"t_ms":0}])";
  return c;
}

TEST(ChatExport, JsonHasEveryBranchAndTheFork) {
  const auto j = conversation_json(sample());
  ASSERT_EQ(j["messages"].size(), 3u);
  EXPECT_EQ(j["current_leaf"], 3);
  EXPECT_TRUE(j["messages"][0]["parent_id"].is_null());
  EXPECT_TRUE(j["messages"][1]["fork"].is_null());
  EXPECT_EQ(j["messages"][2]["fork"]["of"], 2);
  EXPECT_EQ(j["messages"][2]["fork"]["at"], 4);
  EXPECT_EQ(j["messages"][2]["logprobs"][0]["token_id"], 7);
}

TEST(ChatExport, MarkdownShowsTheBranchInView) {
  const std::string md = conversation_markdown(sample());
  EXPECT_EQ(md.rfind("# Two lines\n", 0), 0u);
  EXPECT_NE(md.find("## User\n\nhi\n"), std::string::npos);
  EXPECT_EQ(md.find("first answer"), std::string::npos);  // another branch
  EXPECT_NE(md.find("```\nunclosed\n```\n"), std::string::npos);
  EXPECT_EQ(export_file_name(sample(), "md"), "chat-abc_1.md");
}

}  // namespace
}  // namespace rmm::serving
