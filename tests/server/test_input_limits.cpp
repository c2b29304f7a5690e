// Input that once crashed `rmm serve` or came back as a 500: JSON nested
// 100,000 levels deep (a stack overflow in whatever recursed over it first),
// and schemas, tools, messages or grammars that llama.cpp's common library
// throws on. Each must be a 400 that names the field (or the nesting), and the
// server must go on answering.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include "core/subprocess.hpp"
#include "server_fixture.hpp"
#include "support/test_env.hpp"

using namespace rmm::test;
using nlohmann::json;

namespace {

// A Hermes-style template that renders tools (so tool requests reach llama.cpp's
// tool handling), and that refuses a user message "raise" the way real
// templates refuse odd conversations (raise_exception).
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
{%- if message.role == 'user' and message.content == 'raise' %}{{ raise_exception('refused') }}{% endif %}
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

// {"a":{"a":...1}} with `depth` objects: 100,000 of them make about 600 KB.
std::string deep_objects(int depth) {
  std::string s;
  s.reserve(static_cast<size_t>(depth) * 6 + 1);
  for (int i = 0; i < depth; ++i) s += "{\"a\":";
  s += "1";
  s += std::string(static_cast<size_t>(depth), '}');
  return s;
}

std::string deep_arrays(int depth) {
  return std::string(static_cast<size_t>(depth), '[') + "1" + std::string(static_cast<size_t>(depth), ']');
}

json user(const std::string& text) { return json::array({{{"role", "user"}, {"content", text}}}); }

json weather_tool() {
  return json::array({{{"type", "function"},
                       {"function",
                        {{"name", "get_weather"},
                         {"description", "Weather"},
                         {"parameters",
                          {{"type", "object"},
                           {"properties", {{"city", {{"type", "string"}}}}},
                           {"required", {"city"}}}}}}}});
}

// One server for the suite: the tool template, and a body limit (4 MiB) that
// lets the 600 KB bodies reach the JSON parser.
class InputLimits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = shared_model(kModelFile);
    if (model_.empty()) return;
    try {
      server_ = std::make_unique<ServerProcess>(serve_args(
          model_, {"--parallel", "2", "--ctx-size", "1024", "--max-body", "4MiB", "--chat-template",
                   kToolTemplate, "--models-dir", temp_dir("limits-models").string()}));
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override {
    if (model_.empty())
      GTEST_SKIP() << "shared model " << kModelFile << " is absent in " << shared_models_dir();
    ASSERT_TRUE(server_) << "the server did not start: " << start_error_;
  }

  static int port() { return server_->port(); }
  static HttpResponse post(const std::string& target, const std::string& body) {
    return http_request(port(), "POST", target, body, {{"Content-Type", "application/json"}},
                        std::chrono::seconds(60));
  }
  static HttpResponse chat(json extra) {
    json body = {{"model", kModelId}, {"messages", user("Hi")}, {"max_tokens", 4}, {"temperature", 0}};
    // chat({}) passes a null json: merging that would erase the body.
    if (extra.is_object()) body.merge_patch(extra);
    return post("/v1/chat/completions", body.dump());
  }
  // A 400 in OpenAI's shape whose param is `param` (its message names the field too).
  static void expect_400(const HttpResponse& r, const std::string& param) {
    expect_openai_error(r, 400);
    const json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["error"]["param"], param) << r.body;
    EXPECT_TRUE(error_names(r, param)) << r.body;
  }
  // The server is alive and still generates.
  static void expect_still_serving() {
    ASSERT_TRUE(server_->running()) << server_->output();
    const auto r = chat({});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["choices"][0]["message"]["role"], "assistant");
  }

  static std::filesystem::path model_;
  static std::unique_ptr<ServerProcess> server_;
  static std::string start_error_;
};

std::filesystem::path InputLimits::model_;
std::unique_ptr<ServerProcess> InputLimits::server_;
std::string InputLimits::start_error_;

}  // namespace

// --- nesting ----------------------------------------------------------------

TEST_F(InputLimits, HundredThousandLevelsDeepBodyIs400AndTheServerLives) {
  for (const std::string& body : {deep_objects(100000), deep_arrays(100000)}) {
    SCOPED_TRACE(body.substr(0, 12) + "... (" + std::to_string(body.size()) + " bytes)");
    const auto r = post("/v1/chat/completions", body);
    expect_openai_error(r, 400);
    EXPECT_NE(r.body.find("nested deeper than 64 levels"), std::string::npos) << r.body;
    expect_still_serving();
  }
  // Inside a valid request, in a field that is read or in one that is ignored.
  for (const char* field : {"response_format", "messages", "tools", "metadata"}) {
    SCOPED_TRACE(field);
    const std::string body = R"({"model":"stories260K","messages":[{"role":"user","content":"Hi"}],")" +
                             std::string(field) + "\":" + deep_objects(100000) + "}";
    const auto r = post("/v1/chat/completions", body);
    expect_openai_error(r, 400);
    EXPECT_NE(r.body.find("the request body is nested deeper than 64 levels"), std::string::npos) << r.body;
  }
  // Every route that reads a JSON body goes through the same parser.
  for (const char* route :
       {"/v1/completions", "/api/prompts/templates", "/api/prompts/run", "/api/tokenize"}) {
    SCOPED_TRACE(route);
    const auto r = post(route, deep_objects(100000));
    expect_openai_error(r, 400);
    EXPECT_NE(r.body.find("nested deeper than 64 levels"), std::string::npos) << r.body;
  }
  expect_still_serving();
}

TEST_F(InputLimits, SixtyFourLevelsAreReadSixtyFiveAreNot) {
  // The body object is level 1, so an ignored field may hold 63 more.
  auto r = chat(json::parse(R"({"metadata":)" + deep_objects(63) + "}"));
  EXPECT_EQ(r.status, 200) << r.body;
  r = chat(json::parse(R"({"metadata":)" + deep_objects(64) + "}"));
  expect_openai_error(r, 400);
  EXPECT_NE(r.body.find("nested deeper than 64 levels"), std::string::npos) << r.body;
}

TEST_F(InputLimits, DeepTemplateImportIs400) {
  // The template's one free-form place: a JSON Schema in its parameters.
  const std::string tmpl = R"({"name":"deep","blocks":[{"type":"user","text":"Hi"},{"type":"parameters",)"
                           R"("response_format":{"type":"json_schema","json_schema":{"name":"x","schema":)" +
                           deep_objects(100000) + "}}}]}";
  auto r = post("/api/prompts/templates", tmpl);
  expect_openai_error(r, 400);
  EXPECT_NE(r.body.find("nested deeper than 64 levels"), std::string::npos) << r.body;
  r = http_get(port(), "/api/prompts/templates");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("\"deep\""), std::string::npos);  // nothing was saved

  // `rmm prompt import FILE` reads the file with the same bound (a file is at most 256 KiB: arrays).
  const auto dir = temp_dir("limits-import");
  const ScopedEnv home("RMM_HOME", dir.string());  // never the user's own store
  const std::string file_text =
      R"({"name":"deep","blocks":[{"type":"user","text":"Hi"},{"type":"parameters","response_format":)"
      R"({"type":"json_schema","json_schema":{"name":"x","schema":{"enum":)" +
      deep_arrays(100000) + "}}}}]}";
  std::ofstream(dir / "deep.json") << file_text;
  const auto p = rmm::run_process({rmm_binary().string(), "prompt", "import", (dir / "deep.json").string()});
  EXPECT_EQ(p.exit_code, 2) << p.err;  // InvalidArgument, not a signal
  EXPECT_NE(p.err.find("nested deeper than 64 levels"), std::string::npos) << p.err;
  // Found by fuzz_prompt_template: a number too large for a double was an uncaught
  // nlohmann out_of_range ("rmm: internal error"); it is the file's error like any bad JSON.
  std::ofstream(dir / "big.json") << R"({"name":"big","blocks":[{"type":"user","text":"Hi"}],"x":1e400})";
  const auto q = rmm::run_process({rmm_binary().string(), "prompt", "import", (dir / "big.json").string()});
  EXPECT_EQ(q.exit_code, 2) << q.err;
  EXPECT_NE(q.err.find("not valid JSON"), std::string::npos) << q.err;
  expect_still_serving();
}

// --- what llama.cpp's common library throws on --------------------------------

TEST_F(InputLimits, InvalidJsonSchemaIs400NamingResponseFormat) {
  const json schemas[] = {
      {{"type", "nonsense"}, {"properties", 5}},
      {{"$ref", "#/$defs/missing"}},
      {{"type", "object"}, {"properties", {{"a", {{"type", "nonsense"}}}}}},
      // Converts, but to GBNF that llama.cpp's grammar parser refuses (left recursion: a ::= a).
      {{"$defs", {{"a", {{"$ref", "#/$defs/a"}}}}}, {"$ref", "#/$defs/a"}},
  };
  for (const auto& schema : schemas) {
    SCOPED_TRACE(schema.dump());
    const json rf = {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", schema}}}};
    expect_400(chat({{"response_format", rf}}), "response_format.json_schema");
    json body = {{"model", kModelId}, {"prompt", "Once"}, {"max_tokens", 4}, {"response_format", rf}};
    expect_400(post("/v1/completions", body.dump()), "response_format.json_schema");
    // Streaming too: refused before the stream's head goes out.
    expect_400(chat({{"response_format", rf}, {"stream", true}}), "response_format.json_schema");
  }
  // Optional properties make llama.cpp's conversion time grow about with their cube (3,000 took
  // 47 s of the server's time): more than 256 in one object are refused at once, required ones are not.
  json props = json::object(), names = json::array();
  for (int i = 0; i < 300; ++i) {
    std::string name = "p";  // not "p" + to_string(i): GCC 12 warns falsely (-Wrestrict) on that
    name += std::to_string(i);
    props[name] = {{"type", "integer"}};
    names.push_back(name);
  }
  const json many = {{"type", "object"}, {"properties", props}};
  const auto t0 = std::chrono::steady_clock::now();
  auto r = chat(
      {{"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", many}}}}}});
  expect_400(r, "response_format.json_schema");
  EXPECT_NE(r.body.find("300 optional properties"), std::string::npos) << r.body;
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0).count(),
            5);
  json required = many;
  required["required"] = names;
  r = chat({{"response_format",
             {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", required}}}}}});
  EXPECT_EQ(r.status, 200) << r.body;
  const json tool = {{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", many}}}}};
  expect_400(chat({{"tools", tool}}), "tools");

  // A valid schema still constrains the answer.
  const json ok = {
      {"type", "json_schema"},
      {"json_schema",
       {{"name", "x"}, {"schema", {{"type", "object"}, {"properties", {{"a", {{"type", "integer"}}}}}}}}}};
  r = chat({{"response_format", ok}, {"max_tokens", 40}});
  EXPECT_EQ(r.status, 200) << r.body;
  expect_still_serving();
}

TEST_F(InputLimits, InvalidJsonSchemaInAPromptTemplateIs400WhenRun) {
  const json tmpl = {
      {"name", "bad schema"},
      {"blocks",
       {{{"type", "user"}, {"text", "Hi"}},
        {{"type", "parameters"},
         {"max_tokens", 4},
         {"response_format",
          {{"type", "json_schema"},
           {"json_schema", {{"name", "x"}, {"schema", {{"type", "nonsense"}, {"properties", 5}}}}}}}}}}};
  auto r = post("/api/prompts/templates", tmpl.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.json()["id"];
  r = post("/api/prompts/run", json{{"template_id", id}, {"model", kModelId}}.dump());
  expect_400(r, "response_format.json_schema");
  expect_still_serving();
}

TEST_F(InputLimits, BadToolsAre400NamingTools) {
  const json bad_tools[] = {
      // llama.cpp's tools parser: a description that is not a string.
      {{{"type", "function"}, {"function", {{"name", "f"}, {"description", 5}}}}},
      // Parameters that are no JSON Schema: the tool-call grammar cannot be built.
      {{{"type", "function"},
        {"function", {{"name", "f"}, {"parameters", {{"type", "nonsense"}, {"properties", 5}}}}}}},
      {{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", {{"$ref", "#/nowhere"}}}}}}},
  };
  for (const auto& tools : bad_tools) {
    for (const char* choice : {"auto", "required"}) {
      SCOPED_TRACE(std::string(choice) + " " + tools.dump());
      expect_400(chat({{"tools", tools}, {"tool_choice", choice}}), "tools");
    }
  }
  // A function that is not among the tools.
  const json named = {{"type", "function"}, {"function", {{"name", "nope"}}}};
  expect_400(chat({{"tools", weather_tool()}, {"tool_choice", named}}), "tool_choice");
  // Good tools still work, with a call forced.
  const auto r = chat({{"tools", weather_tool()}, {"tool_choice", "required"}, {"max_tokens", 30}});
  EXPECT_EQ(r.status, 200) << r.body;
  expect_still_serving();
}

TEST_F(InputLimits, MessagesLlamaCppRefusesAre400NamingMessages) {
  // Tool calls in an assistant message that llama.cpp's message parser refuses.
  const json odd_calls[] = {
      json::array({{{"type", "function"}, {"function", {{"name", 5}, {"arguments", "{}"}}}}}),
      json::array({{{"type", "function"}, {"function", {{"name", "f"}}}}}),  // no arguments
      json::array({{{"type", "search"}, {"function", {{"name", "f"}, {"arguments", "{}"}}}}}),
      json::array({5}),
  };
  for (const auto& calls : odd_calls) {
    SCOPED_TRACE(calls.dump());
    const json messages = {{{"role", "user"}, {"content", "Weather?"}},
                           {{"role", "assistant"}, {"tool_calls", calls}},
                           {{"role", "user"}, {"content", "Well?"}}};
    expect_400(chat({{"messages", messages}, {"tools", weather_tool()}}), "messages");
  }
  // The template itself refuses the conversation (raise_exception), with and without tools.
  expect_400(chat({{"messages", user("raise")}}), "messages");
  expect_400(chat({{"messages", user("raise")}, {"tools", weather_tool()}}), "messages");
  expect_still_serving();
}

TEST_F(InputLimits, OddInputIsNeverA500) {
  // Shapes past the field checks that llama.cpp may take or refuse: a 400 or a 200, never a 5xx.
  const json cases[] = {
      {{"tools", {{{"type", "function"}, {"function", {{"name", "a\"b\n{}"}, {"parameters", "text"}}}}}},
       {"tool_choice", "required"}},
      {{"tools", {{{"type", "function"}, {"function", {{"name", ""}, {"parameters", json::array()}}}}}}},
      {{"tools", weather_tool()},
       {"messages", {{{"role", "tool"}, {"content", "18 C"}}, {{"role", "tool"}, {"tool_call_id", 5}}}}},
      {{"messages", {{{"role", "assistant"}, {"content", json::array()}}}}},
      {{"response_format", {{"type", "json_schema"}, {"json_schema", {{"schema", {{"pattern", "(["}}}}}}}},
      {{"response_format",
        {{"type", "json_schema"}, {"json_schema", {{"schema", {{"type", "integer"}, {"minimum", "x"}}}}}}}},
      {{"response_format",
        {{"type", "json_schema"}, {"json_schema", {{"schema", {{"enum", json::array()}}}}}}}},
  };
  for (const auto& extra : cases) {
    SCOPED_TRACE(extra.dump());
    const auto r = chat(extra);
    EXPECT_TRUE(r.status == 200 || r.status == 400) << r.status << " " << r.body;
    if (r.status == 400) expect_openai_error(r, 400);
  }
  expect_still_serving();
}

// The command line takes grammars and schemas from the user too.
TEST_F(InputLimits, CliGrammarAndSchemaErrorsAreUsageErrors) {
  // 600 KB is over the kernel's limit for one argument (128 KiB): the deep schema goes in a file.
  const auto deep = temp_dir("limits-cli") / "deep.json";
  std::ofstream(deep) << deep_objects(100000);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--grammar", "root ::= ("}, "grammar"},
      {{"--grammar", "root ::= undefined-rule"}, "grammar"},
      {{"--grammar", "root ::= root"}, "grammar"},
      {{"--json-schema", R"({"type": "nonsense", "properties": 5})"}, "json_schema"},
      {{"--json-schema-file", deep.string()}, "nested deeper than 64 levels"},
  };
  for (const auto& [flags, says] : cases) {
    SCOPED_TRACE(says);
    std::vector<std::string> argv{
        rmm_binary().string(), "run", model_.string(), "Once", "--raw", "-n", "4", "-t", "1"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    const auto p = rmm::run_process(argv);
    EXPECT_TRUE(p.exit_code == 1 || p.exit_code == 2) << p.exit_code << " " << p.err;
    EXPECT_NE(p.err.find(says), std::string::npos) << p.err;
  }
}
