// Rendering: messages and params, typed values, defaults, and errors naming the variable.
#include <gtest/gtest.h>

#include "prompts/render.hpp"

using namespace rmm::prompts;
using json = nlohmann::json;

namespace {

Template sample() {
  return parse_template(json::parse(R"({
    "id": "sample", "name": "Sample",
    "blocks": [
      {"type": "system", "text": "You write {{tone}} {{language}}."},
      {"type": "examples", "pairs": [{"user": "Example {{n}}", "assistant": "Answer {{flag}}"}]},
      {"type": "context", "text": "Context:\n{{notes}}"},
      {"type": "user", "text": "{{question}}  \n"},
      {"type": "parameters", "temperature": 0.2, "max_tokens": 50, "stop": ["END"]}
    ],
    "variables": [
      {"name": "tone", "type": "select", "options": ["calm", "bold"], "default": "calm"},
      {"name": "language", "type": "text", "default": "{{tone}}-English"},
      {"name": "n", "type": "number", "min": 1, "max": 5, "default": 2},
      {"name": "flag", "type": "boolean"},
      {"name": "notes", "type": "multiline"},
      {"name": "question", "type": "multiline", "required": true}
    ]
  })"));
}

std::string error_field(const Template& t, const json& values, std::string* message = nullptr) {
  try {
    render(t, values);
  } catch (const TemplateError& e) {
    if (message) *message = e.what();
    return e.field();
  }
  return "<no error>";
}

}  // namespace

TEST(PromptRender, MessagesAndParams) {
  const auto r = render(sample(), {{"question", "Why?"}, {"tone", "bold"}, {"n", 4}, {"flag", true}});
  const json expected = json::parse(R"([
    {"role": "system", "content": "You write bold bold-English."},
    {"role": "user", "content": "Example 4"},
    {"role": "assistant", "content": "Answer true"},
    {"role": "user", "content": "Why?"}
  ])");
  EXPECT_EQ(r.messages, expected);
  EXPECT_EQ(r.params, json::parse(R"({"temperature": 0.2, "max_tokens": 50, "stop": ["END"]})"));
  const json body = chat_request(r);
  EXPECT_EQ(body["messages"], expected);
  EXPECT_EQ(body["max_tokens"], 50);
  EXPECT_EQ(to_json(r)["params"]["temperature"], 0.2);
}

TEST(PromptRender, ContextJoinsTheNextUserMessage) {
  const auto r = render(sample(), {{"question", "Why?"}, {"notes", "it rained"}});
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[0]["content"], "You write calm calm-English.");
  EXPECT_EQ(r.messages[2]["content"], "Answer false");  // booleans default to false
  EXPECT_EQ(r.messages[3]["content"], "Context:\nit rained\n\nWhy?");
}

TEST(PromptRender, ValuesAreLiteral) {
  const auto r = render(sample(), {{"question", "What is {{tone}}? \\{{x}}"}});
  EXPECT_EQ(r.messages.back()["content"], "What is {{tone}}? \\{{x}}");
}

TEST(PromptRender, EscapedBracesInTemplateText) {
  const Template t = parse_template(json::parse(R"({"name": "E", "blocks": [{"type": "user",
      "text": "Use \\{{name}} syntax for {{x}}"}], "variables": [{"name": "x", "default": "y"}]})"));
  EXPECT_EQ(render(t, json::object()).messages[0]["content"], "Use {{name}} syntax for y");
}

TEST(PromptRender, ErrorsNameTheVariable) {
  const Template t = sample();
  std::string msg;
  EXPECT_EQ(error_field(t, json::object(), &msg), "values.question");
  EXPECT_NE(msg.find("'question' is required"), std::string::npos) << msg;
  EXPECT_EQ(error_field(t, {{"question", "q"}, {"tone", "angry"}}, &msg), "values.tone");
  EXPECT_NE(msg.find("\"calm\""), std::string::npos) << msg;
  EXPECT_EQ(error_field(t, {{"question", "q"}, {"n", 9}}, &msg), "values.n");
  EXPECT_NE(msg.find("between 1 and 5"), std::string::npos) << msg;
  EXPECT_EQ(error_field(t, {{"question", "q"}, {"n", "3"}}), "values.n");
  EXPECT_EQ(error_field(t, {{"question", "q"}, {"flag", "true"}}), "values.flag");
  EXPECT_EQ(error_field(t, {{"question", 5}}), "values.question");
  EXPECT_EQ(error_field(t, {{"question", ""}}), "values.question");
  EXPECT_EQ(error_field(t, {{"question", "q"}, {"language", "two\nlines"}}), "values.language");
  EXPECT_EQ(error_field(t, {{"question", std::string("bad \xff")}}), "values.question");
  EXPECT_EQ(error_field(t, {{"question", "q"}, {"ghost", 1}, {"spook", 2}}, &msg), "values");
  EXPECT_NE(msg.find("\"ghost\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"spook\""), std::string::npos) << msg;
  EXPECT_EQ(error_field(t, json::array()), "values");
  EXPECT_EQ(error_field(t, {{"question", "q"}}), "<no error>");
  EXPECT_EQ(error_field(t, {{"question", "q"}, {"notes", nullptr}}), "<no error>");  // null: not given
}

TEST(PromptRender, NothingToSayIsAnError) {
  const Template t = parse_template(json::parse(
      R"({"name": "E", "blocks": [{"type": "user", "text": "{{x}}"}], "variables": [{"name": "x"}]})"));
  EXPECT_THROW(render(t, json::object()), TemplateError);
  EXPECT_EQ(render(t, {{"x", "hi"}}).messages.size(), 1u);
}

TEST(PromptRender, ValuesFromCommandLineText) {
  const Template t = sample();
  EXPECT_EQ(value_from_string(*t.find_variable("n"), "3"), 3);
  EXPECT_TRUE(value_from_string(*t.find_variable("n"), "2.5").is_number_float());
  EXPECT_EQ(value_from_string(*t.find_variable("flag"), "yes"), true);
  EXPECT_EQ(value_from_string(*t.find_variable("flag"), "0"), false);
  EXPECT_EQ(value_from_string(*t.find_variable("tone"), "bold"), "bold");
  EXPECT_THROW(value_from_string(*t.find_variable("n"), "three"), TemplateError);
  EXPECT_THROW(value_from_string(*t.find_variable("n"), "1e999"), TemplateError);
  EXPECT_THROW(value_from_string(*t.find_variable("flag"), "maybe"), TemplateError);
}
