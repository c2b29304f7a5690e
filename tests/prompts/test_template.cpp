// Parsing and validation: every bad input is a TemplateError naming the field.
#include <gtest/gtest.h>

#include "prompts/template.hpp"

using namespace rmm::prompts;
using json = nlohmann::json;

namespace {

json minimal() {
  return json::parse(R"({
    "id": "greet", "name": "Greet", "description": "Says hello", "tags": ["demo"],
    "blocks": [{"type": "system", "text": "You are kind."}, {"type": "user", "text": "Hello {{who}}!"}],
    "variables": [{"name": "who", "type": "text", "default": "world"}]
  })");
}

// The field a parse of `j` fails on (and the message, for the assertion text).
std::pair<std::string, std::string> error_of(const json& j) {
  try {
    parse_template(j);
  } catch (const TemplateError& e) {
    return {e.field(), e.what()};
  }
  return {"<no error>", ""};
}

#define EXPECT_FIELD(j, f)                 \
  do {                                     \
    const auto [field, msg] = error_of(j); \
    EXPECT_EQ(field, f) << msg;            \
  } while (0)

}  // namespace

TEST(PromptTemplate, ParsesAndRoundTrips) {
  const Template t = parse_template(minimal());
  EXPECT_EQ(t.id, "greet");
  ASSERT_EQ(t.blocks.size(), 2u);
  EXPECT_EQ(t.blocks[1].type, BlockType::User);
  ASSERT_EQ(t.variables.size(), 1u);
  EXPECT_EQ(t.variables[0].default_value, "world");
  const json out = to_json(t);
  for (const char* key : {"id", "name", "description", "tags", "version", "blocks", "variables"})
    EXPECT_TRUE(out.contains(key)) << key;
  EXPECT_EQ(out["variables"][0]["type"], "text");
  EXPECT_EQ(out["variables"][0]["required"], false);
  const Template again = parse_template(out);
  EXPECT_EQ(to_json(again), out);
}

TEST(PromptTemplate, ExamplesAndParametersBlocks) {
  json j = minimal();
  j["blocks"].push_back(
      {{"type", "examples"}, {"pairs", {{{"user", "Hi {{who}}"}, {"assistant", "Hello."}}}}});
  j["blocks"].push_back({{"type", "parameters"},
                         {"temperature", 0.3},
                         {"max_tokens", 64},
                         {"top_p", 0.9},
                         {"seed", 7},
                         {"stop", "END"},
                         {"response_format", {{"type", "json_object"}}},
                         {"model", "stories260K"}});
  const Template t = parse_template(j);
  ASSERT_EQ(t.blocks.size(), 4u);
  EXPECT_EQ(t.blocks[2].pairs.at(0).user, "Hi {{who}}");
  EXPECT_EQ(t.blocks[3].params["stop"], json::array({"END"}));
  const json b = to_json(t)["blocks"][3];
  EXPECT_EQ(b["type"], "parameters");
  EXPECT_EQ(b["max_tokens"], 64);
  EXPECT_EQ(b["model"], "stories260K");
}

TEST(PromptTemplate, VariableTypes) {
  json j = minimal();
  j["variables"] = json::parse(R"([
    {"name": "who", "type": "select", "options": ["a", "b"], "default": "b", "required": true, "label": "Who"},
    {"name": "n", "type": "number", "min": 1, "max": 10, "default": 3},
    {"name": "flag", "type": "boolean", "default": false},
    {"name": "body", "type": "multiline", "default": "two\nlines"}
  ])");
  const Template t = parse_template(j);
  EXPECT_EQ(t.variables[0].options.size(), 2u);
  EXPECT_EQ(*t.variables[1].min, 1.0);
  const json out = to_json(t);
  EXPECT_EQ(out["variables"][1]["min"], 1);  // whole bounds stay integers
  EXPECT_TRUE(out["variables"][1]["min"].is_number_integer());
}

TEST(PromptTemplate, StructuralErrorsNameTheField) {
  EXPECT_FIELD(json::array(), "");
  json j = minimal();
  j["blocks"][1]["type"] = "assistant";
  EXPECT_FIELD(j, "blocks[1].type");
  j = minimal();
  j["blocks"][0].erase("text");
  EXPECT_FIELD(j, "blocks[0].text");
  j = minimal();
  j["blocks"][0]["text"] = 5;
  EXPECT_FIELD(j, "blocks[0].text");
  j = minimal();
  j["blocks"][0]["extra"] = 1;
  EXPECT_FIELD(j, "blocks[0].extra");
  j = minimal();
  j["surprise"] = true;
  EXPECT_FIELD(j, "surprise");
  j = minimal();
  j.erase("name");
  EXPECT_FIELD(j, "name");
  j = minimal();
  j.erase("blocks");
  EXPECT_FIELD(j, "blocks");
  j = minimal();
  j["tags"] = {1};
  EXPECT_FIELD(j, "tags[0]");
  j = minimal();
  j["name"] = "two\nlines";
  EXPECT_FIELD(j, "name");
  j = minimal();
  j["blocks"].push_back({{"type", "examples"}, {"pairs", json::array()}});
  EXPECT_FIELD(j, "blocks[2].pairs");
  j = minimal();
  j["blocks"].push_back({{"type", "examples"}, {"pairs", {{{"user", "x"}}}}});
  EXPECT_FIELD(j, "blocks[2].pairs[0].assistant");
}

TEST(PromptTemplate, ParameterErrors) {
  auto with = [](json params) {
    json j = minimal();
    params["type"] = "parameters";
    j["blocks"].push_back(params);
    return j;
  };
  EXPECT_FIELD(with({{"temperature", 101}}), "blocks[2].temperature");
  EXPECT_FIELD(with({{"temperature", "hot"}}), "blocks[2].temperature");
  EXPECT_FIELD(with({{"top_p", 1.5}}), "blocks[2].top_p");
  EXPECT_FIELD(with({{"max_tokens", -2}}), "blocks[2].max_tokens");
  EXPECT_FIELD(with({{"max_tokens", 1.5}}), "blocks[2].max_tokens");
  EXPECT_FIELD(with({{"seed", "x"}}), "blocks[2].seed");
  EXPECT_FIELD(with({{"stop", {"a", "b", "c", "d", "e"}}}), "blocks[2].stop");
  EXPECT_FIELD(with({{"stop", {"a", 1}}}), "blocks[2].stop[1]");
  EXPECT_FIELD(with({{"response_format", {{"type", "xml"}}}}), "blocks[2].response_format.type");
  EXPECT_FIELD(with({{"response_format", {{"type", "json_schema"}}}}),
               "blocks[2].response_format.json_schema");
  EXPECT_FIELD(with({{"model", ""}}), "blocks[2].model");
  EXPECT_FIELD(with({{"frequency", 1}}), "blocks[2].frequency");
  json two = with({{"temperature", 0.5}});
  two["blocks"].push_back({{"type", "parameters"}});
  EXPECT_FIELD(two, "blocks[3]");
}

TEST(PromptTemplate, VariableErrors) {
  auto with_var = [](json var) {
    json j = minimal();
    j["variables"].push_back(var);
    return j;
  };
  EXPECT_FIELD(with_var({{"name", "9lives"}}), "variables[1].name");
  EXPECT_FIELD(with_var({{"name", "has space"}}), "variables[1].name");
  EXPECT_FIELD(with_var({{"name", std::string(65, 'a')}}), "variables[1].name");
  EXPECT_FIELD(with_var({{"name", "who"}}), "variables[1].name");  // defined twice
  EXPECT_FIELD(with_var({{"name", "x"}, {"type", "date"}}), "variables[1].type");
  EXPECT_FIELD(with_var({{"name", "x"}, {"type", "select"}}), "variables[1].options");
  EXPECT_FIELD(with_var({{"name", "x"}, {"type", "select"}, {"options", {"a", "a"}}}),
               "variables[1].options[1]");
  EXPECT_FIELD(with_var({{"name", "x"}, {"type", "select"}, {"options", {"a"}}, {"default", "b"}}),
               "variables[1].default");
  EXPECT_FIELD(with_var({{"name", "x"}, {"type", "text"}, {"options", {"a"}}}), "variables[1].options");
  EXPECT_FIELD(with_var({{"name", "x"}, {"type", "number"}, {"min", 5}, {"max", 1}}), "variables[1].min");
  EXPECT_FIELD(with_var({{"name", "x"}, {"type", "number"}, {"max", 1}, {"default", 2}}),
               "variables[1].default");
  EXPECT_FIELD(with_var({{"name", "x"}, {"type", "number"}, {"default", "2"}}), "variables[1].default");
  EXPECT_FIELD(with_var({{"name", "x"}, {"type", "text"}, {"min", 1}}), "variables[1].min");
  EXPECT_FIELD(with_var({{"name", "x"}, {"type", "boolean"}, {"default", "yes"}}), "variables[1].default");
  EXPECT_FIELD(with_var({{"name", "x"}, {"type", "text"}, {"default", "a\nb"}}), "variables[1].default");
  EXPECT_FIELD(with_var({{"name", "x"}, {"required", "yes"}}), "variables[1].required");
  EXPECT_FIELD(with_var({{"name", "x"}, {"colour", "red"}}), "variables[1].colour");
}

TEST(PromptTemplate, UndefinedVariableNamesItAndTheBlock) {
  json j = minimal();
  j["blocks"][0]["text"] = "You speak {{language}}.";
  const auto [field, msg] = error_of(j);
  EXPECT_EQ(field, "blocks[0].text");
  EXPECT_NE(msg.find("language"), std::string::npos) << msg;
  EXPECT_NE(msg.find("block 0"), std::string::npos) << msg;
  j = minimal();
  j["blocks"].push_back({{"type", "examples"}, {"pairs", {{{"user", "ok"}, {"assistant", "{{nope}}"}}}}});
  EXPECT_FIELD(j, "blocks[2].pairs[0].assistant");
}

TEST(PromptTemplate, SelfReferenceAndCyclesAreErrors) {
  json j = minimal();
  j["variables"][0]["default"] = "{{who}} again";
  auto [field, msg] = error_of(j);
  EXPECT_EQ(field, "variables[0].default");
  EXPECT_NE(msg.find("itself"), std::string::npos) << msg;

  j = minimal();
  j["variables"] = json::parse(R"([{"name": "who", "default": "{{a}}"}, {"name": "a", "default": "{{b}}"},
                                   {"name": "b", "default": "x {{who}}"}])");
  std::tie(field, msg) = error_of(j);
  EXPECT_NE(msg.find("cycle"), std::string::npos) << msg;
  EXPECT_NE(msg.find("who -> a -> b -> who"), std::string::npos) << msg;

  j = minimal();
  j["variables"] = json::parse(R"([{"name": "who", "type": "select", "options": ["{{who}}"]}])");
  std::tie(field, msg) = error_of(j);
  EXPECT_EQ(field, "variables[0].options[0]");
  EXPECT_NE(msg.find("itself"), std::string::npos) << msg;

  j = minimal();
  j["variables"][0]["default"] = "{{ghost}}";
  EXPECT_FIELD(j, "variables[0].default");

  // A default may use another variable.
  j = minimal();
  j["variables"] = json::parse(R"([{"name": "who", "default": "{{first}} {{last}}"},
                                   {"name": "first", "default": "Ada"}, {"name": "last", "default": "Lovelace"}])");
  EXPECT_NO_THROW(parse_template(j));
}

TEST(PromptTemplate, PlaceholderSyntax) {
  EXPECT_EQ(placeholders("a {{x}} b {{ y }} {{x}}", "f"), (std::vector<std::string>{"x", "y", "x"}));
  EXPECT_TRUE(placeholders("literal \\{{x}} and } and {single}", "f").empty());
  for (const char* bad : {"{{", "{{ 1x }}", "{{a b}}", "{{}}", "{{{x}}}", "tail {{x"}) {
    try {
      placeholders(bad, "blocks[0].text");
      ADD_FAILURE() << bad;
    } catch (const TemplateError& e) {
      EXPECT_EQ(e.field(), "blocks[0].text");
      EXPECT_NE(std::string(e.what()).find("\\{{"), std::string::npos) << e.what();
    }
  }
}

TEST(PromptTemplate, Limits) {
  json j = minimal();
  for (int i = 0; i < 65; ++i) j["blocks"].push_back({{"type", "user"}, {"text", "x"}});
  EXPECT_FIELD(j, "blocks");
  j = minimal();
  for (int i = 0; i < 64; ++i) {
    std::string name = "v";
    name += std::to_string(i);  // (not "v" + ...: GCC 12 warns falsely with -Wrestrict)
    j["variables"].push_back({{"name", name}});
  }
  EXPECT_FIELD(j, "variables");
  j = minimal();
  j["blocks"][0]["text"] = std::string(300 * 1024, 'x');
  EXPECT_THROW(parse_template(j), TemplateError);
  EXPECT_THROW(parse_template_text(j.dump()), TemplateError);
  j = minimal();
  j["id"] = "Bad_Id";
  EXPECT_FIELD(j, "id");
  j["id"] = "-lead";
  EXPECT_FIELD(j, "id");
  j["id"] = std::string(65, 'a');
  EXPECT_FIELD(j, "id");
  j.erase("id");
  EXPECT_NO_THROW(parse_template(j));
  EXPECT_FIELD(j, "<no error>");
  try {
    parse_template(j, true);
    ADD_FAILURE();
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.field(), "id");
  }
}

TEST(PromptTemplate, InvalidUtf8AndBadJsonText) {
  EXPECT_THROW(parse_template_text("{\"name\": \"\xff\"}"), TemplateError);
  EXPECT_THROW(parse_template_text("{not json"), TemplateError);
  // A json built in code with raw bytes is still checked.
  json j = minimal();
  j["description"] = std::string("bad \xc3");
  EXPECT_FIELD(j, "description");
  j = minimal();
  j["blocks"][0]["text"] = std::string("\xed\xa0\x80");  // a surrogate
  EXPECT_FIELD(j, "blocks[0].text");
}

TEST(PromptTemplate, SqlSpecialCharactersAreJustText) {
  json j = minimal();
  const std::string nasty = "Robert'); DROP TABLE templates;-- \" \\ % _ ; /* */ \x01";
  j["name"] = "'; DELETE FROM x; --";
  j["description"] = nasty;
  j["tags"] = {nasty.substr(0, 40)};
  j["blocks"][0]["text"] = nasty;
  const Template t = parse_template(j);
  EXPECT_EQ(t.description, nasty);
  EXPECT_EQ(parse_template(to_json(t)).blocks[0].text, nasty);
}

TEST(PromptTemplate, IdFromName) {
  EXPECT_EQ(id_from_name("Coding Assistant"), "coding-assistant");
  EXPECT_EQ(id_from_name("  JSON -- extraction!! "), "json-extraction");
  EXPECT_EQ(id_from_name("日本語"), "template");
  EXPECT_EQ(id_from_name(std::string(100, 'a')).size(), 64u);
  EXPECT_TRUE(is_valid_id(id_from_name(std::string(62, 'a') + " b c")));
}

TEST(PromptTemplate, NumberStepAndVersionMessage) {
  json j = minimal();
  j["variables"].push_back({{"name", "n"}, {"type", "number"}, {"min", 0}, {"max", 1}, {"step", 0.05}});
  j["message"] = "added n";
  const Template t = parse_template(j);
  ASSERT_TRUE(t.variables[1].step);
  EXPECT_DOUBLE_EQ(*t.variables[1].step, 0.05);
  EXPECT_EQ(t.message, "added n");
  const json out = to_json(t);
  EXPECT_EQ(out["variables"][1]["step"], 0.05);
  EXPECT_EQ(out["message"], "added n");
  EXPECT_FALSE(out["variables"][0].contains("step"));
  EXPECT_EQ(to_json(parse_template(out)), out);
  EXPECT_FALSE(to_json(parse_template(minimal())).contains("message"));  // only when there is one

  json zero = j;
  zero["variables"][1]["step"] = 0;
  EXPECT_FIELD(zero, "variables[1].step");
  json text_step = minimal();
  text_step["variables"][0]["step"] = 1;
  EXPECT_FIELD(text_step, "variables[0].step");
  json bad_message = minimal();
  bad_message["message"] = 5;
  EXPECT_FIELD(bad_message, "message");
  bad_message["message"] = std::string(kMaxMessageLength + 1, 'x');
  EXPECT_FIELD(bad_message, "message");
}
