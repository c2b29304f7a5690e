// The shipped templates: valid, distinct, and renderable with their defaults.
#include <gtest/gtest.h>

#include <set>

#include "prompts/render.hpp"
#include "prompts/starters.hpp"

using namespace rmm::prompts;

TEST(PromptStarters, SixValidRenderableTemplates) {
  const auto& all = starter_templates();
  ASSERT_EQ(all.size(), 6u);
  std::set<std::string> ids;
  for (const auto& t : all) {
    SCOPED_TRACE(t.id);
    EXPECT_TRUE(ids.insert(t.id).second);
    EXPECT_TRUE(is_valid_id(t.id));
    EXPECT_FALSE(t.description.empty());
    EXPECT_NO_THROW(validate(t, true));
    EXPECT_EQ(to_json(parse_template(to_json(t))), to_json(t));
    const auto r = render(t, nlohmann::json::object());
    ASSERT_GE(r.messages.size(), 2u);
    EXPECT_EQ(r.messages[0]["role"], "system");
    EXPECT_EQ(r.messages.back()["role"], "user");
    EXPECT_TRUE(r.params.contains("temperature"));
    for (const auto& m : r.messages) EXPECT_EQ(m["content"].get<std::string>().find("{{"), std::string::npos);
  }
  for (const char* id : {"coding-assistant", "writing-assistant", "data-analysis", "summarize", "translate",
                         "json-extraction"})
    EXPECT_TRUE(ids.count(id)) << id;
}

TEST(PromptStarters, CodingAssistantUsesItsVariables) {
  const Template* t = nullptr;
  for (const auto& s : starter_templates()) {
    if (s.id == "coding-assistant") t = &s;
  }
  ASSERT_NE(t, nullptr);
  const auto r =
      render(*t, {{"language", "Rust"}, {"request", "Parse a CSV line."}, {"code", "fn main() {}"}});
  EXPECT_NE(r.messages[0]["content"].get<std::string>().find("Rust engineer"), std::string::npos);
  const std::string last = r.messages.back()["content"];
  EXPECT_NE(last.find("```Rust\nfn main() {}\n```"), std::string::npos) << last;
  EXPECT_NE(last.find("Parse a CSV line."), std::string::npos) << last;
  // Without code the optional context block is left out.
  const auto bare = render(*t, nlohmann::json::object());
  EXPECT_EQ(bare.messages.back()["content"].get<std::string>().find("Existing code"), std::string::npos);
}
