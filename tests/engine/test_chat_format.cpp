// Chat formatting through llama.cpp common, checked against the templates'
// published formats written out by hand.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "engine/chat_format.hpp"
#include "engine/engine_fixture.hpp"

using namespace rmm;
using namespace rmm::test;

TEST(ChatFormat, ChatmlByName) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::ChatFormatter f(*model, "chatml");
  const auto p = f.format({{"system", "Be brief."}, {"user", "Hi"}});
  EXPECT_EQ(
      p.text,
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatFormat, Llama3ByName) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::ChatFormatter f(*model, "llama3");
  const auto p = f.format({{"user", "Hi"}});
  EXPECT_EQ(p.text,
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatFormat, ModelWithoutTemplateFallsBackToChatml) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  ASSERT_TRUE(model->chat_template().empty());
  engine::ChatFormatter f(*model);
  const auto p = f.format({{"user", "Hi"}});
  EXPECT_EQ(p.text, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatFormat, CustomJinjaTemplate) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::ChatFormatter f(*model,
                          "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
                          "{% if add_generation_prompt %}[assistant] {% endif %}");
  EXPECT_EQ(f.format({{"user", "Hi"}, {"assistant", "Hello"}, {"user", "Bye"}}).text,
            "[user] Hi\n[assistant] Hello\n[user] Bye\n[assistant] ");
}

TEST(ChatFormat, UnknownNameAndBadRoleAreClearErrors) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  try {
    engine::ChatFormatter f(*model, "no-such-template");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("chatml"), std::string::npos) << e.what();  // lists the known names
  }
  engine::ChatFormatter f(*model, "chatml");
  EXPECT_THROW(f.format({{"robot", "x"}}), Error);
}

// llama.cpp common rethrows a parse error as a bare std::exception; the
// formatter keeps the Jinja parser's own message, with the place it failed.
TEST(ChatFormat, BrokenJinjaSaysWhereAndWhy) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  const std::string broken = "{% for m in messages %}{{ m.content }\n{% endfor %}";
  const std::string why = engine::ChatFormatter::template_error(broken);
  EXPECT_NE(why.find("parser: Parser Error: Expected }}"), std::string::npos) << why;
  EXPECT_NE(why.find("\n"), std::string::npos) << why;  // the source line, then a caret under the place
  EXPECT_NE(why.find('^'), std::string::npos) << why;
  EXPECT_EQ(engine::ChatFormatter::template_error("{{ messages[0].content }}"), "");
  try {
    engine::ChatFormatter f(*model, broken);
    FAIL() << "a broken template was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("std::exception"), std::string::npos) << e.what();
  }
}

namespace {

// A Hermes-style tool template written for these tests: tools in the system
// turn, calls as <tool_call>{"name", "arguments"}</tool_call>.
const char* kToolTemplate = R"JINJA({%- if tools %}<|im_start|>system
You may call functions. Signatures:
{%- for tool in tools %}
{{ tool | tojson }}
{%- endfor %}
To call one, answer <tool_call>
{"name": NAME, "arguments": ARGS}
</tool_call><|im_end|>
{% endif %}
{%- for message in messages %}
{%- if message.role == 'assistant' and message.tool_calls %}<|im_start|>assistant
{%- if message.content %}
{{ message.content }}{%- endif %}
{%- for tc in message.tool_calls %}
<tool_call>
{"name": "{{ tc.function.name }}", "arguments": {{ tc.function.arguments | tojson }}}
</tool_call>
{%- endfor %}<|im_end|>
{% elif message.role == 'tool' %}<|im_start|>user
<tool_response>
{{ message.content }}
</tool_response><|im_end|>
{% else %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}
)JINJA";

const char* kWeatherTool = R"([{"type":"function","function":{"name":"get_weather","description":"Weather",
  "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}])";

// One user question with the weather tool offered.
engine::ChatOptions weather_question(const std::string& tool_choice = "auto") {
  engine::ChatOptions o;
  o.messages_json = R"([{"role":"user","content":"Weather in Paris?"}])";
  o.tools_json = kWeatherTool;
  o.tool_choice = tool_choice;
  return o;
}

}  // namespace

TEST(ChatFormat, ToolsAreRenderedAndRequiredCallsGetAGrammar) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::ChatFormatter f(*model, kToolTemplate);
  auto o = weather_question("required");
  const auto p = f.format_openai(o);
  EXPECT_NE(p.text.find("\"get_weather\""), std::string::npos) << p.text;
  EXPECT_NE(p.grammar.find("get_weather"), std::string::npos);
  EXPECT_FALSE(p.grammar_lazy);  // required: the grammar holds from the first token
  EXPECT_EQ(p.grammar_prefill.rfind("<|im_start|>assistant", 0), 0u) << p.grammar_prefill;

  o.tool_choice = "auto";
  const auto lazy = f.format_openai(o);
  EXPECT_TRUE(lazy.grammar.empty() || lazy.grammar_lazy || !lazy.trigger_patterns.empty());

  o.tool_choice = "no_such_function";
  EXPECT_THROW(f.format_openai(o), Error);
}

TEST(ChatFormat, RepliesInTheTemplateFormatParseIntoToolCalls) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::ChatFormatter f(*model, kToolTemplate);
  const auto p = f.format_openai(weather_question());
  const auto reply = p.parse_reply(
      "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
      "\"Paris\"}}\n</tool_call>");
  ASSERT_EQ(reply.tool_calls.size(), 1u);
  EXPECT_EQ(reply.tool_calls[0].name, "get_weather");
  EXPECT_EQ(nlohmann::json::parse(reply.tool_calls[0].arguments), nlohmann::json({{"city", "Paris"}}));
  EXPECT_EQ(reply.content.find("<tool_call>"), std::string::npos) << reply.content;

  const auto plain = p.parse_reply("It is sunny.");
  EXPECT_TRUE(plain.tool_calls.empty());
  EXPECT_EQ(plain.content, "It is sunny.");
}

TEST(ChatFormat, ToolResultsAndEarlierCallsAreRendered) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::ChatFormatter f(*model, kToolTemplate);
  engine::ChatOptions o;
  o.messages_json = R"([{"role":"user","content":"Weather in Paris?"},
    {"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function",
      "function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
    {"role":"tool","tool_call_id":"call_1","content":"18 C and sunny"}])";
  o.tools_json = kWeatherTool;
  const auto p = f.format_openai(o);
  EXPECT_NE(p.text.find("<tool_response>\n18 C and sunny\n</tool_response>"), std::string::npos) << p.text;
  EXPECT_NE(p.text.find("<tool_call>"), std::string::npos) << p.text;
}

// The tool grammar (with the generation prompt fed to it first) drives real
// sampling without errors, and what comes out parses in the template's format.
TEST(ChatFormat, ToolGrammarSamplesAndTheAnswerParses) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::ChatFormatter f(*model, kToolTemplate);
  auto o = weather_question("required");
  const auto p = f.format_openai(o);
  engine::ContextParams cp;
  cp.n_ctx = 1024;
  cp.n_threads = 1;
  engine::BatchEngine eng(model, cp);
  engine::GenerateRequest req;
  req.prompt = model->tokenize_prompt(p.text);
  req.max_tokens = 48;
  req.sampling.temperature = 0.8f;
  req.sampling.seed = 5;
  req.sampling.grammar = p.grammar;
  req.sampling.grammar_prefill = p.grammar_prefill;
  const auto r = eng.generate(req);
  ASSERT_NE(r.stop_reason, engine::StopReason::Error) << r.error;
  EXPECT_EQ(r.timings.generated_tokens, 48);
  EXPECT_NO_THROW(p.parse_reply(r.text));
}

// llama.cpp drops tools a template cannot render; offering them must be an error, not a silent no-op.
TEST(ChatFormat, ToolsNeedATemplateThatRendersThem) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::ChatFormatter fallback(*model);  // no template in the file: chatml
  EXPECT_FALSE(fallback.supports_tools());
  try {
    fallback.format_openai(weather_question("auto"));
    ADD_FAILURE() << "tools were accepted by a template without tool support";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("tools"), std::string::npos) << e.what();
  }
  auto none = weather_question("none");  // tool_choice none needs no tool support
  EXPECT_NO_THROW(fallback.format_openai(none));
  EXPECT_TRUE(engine::ChatFormatter(*model, kToolTemplate).supports_tools());
}
