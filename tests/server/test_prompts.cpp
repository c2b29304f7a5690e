// Prompt Architect over real HTTP: template CRUD with versions and diffs,
// builds with errors naming the variable, and runs that answer exactly as
// /v1/chat/completions does for the same messages and parameters.
#include <gtest/gtest.h>

#include <set>

#include "server_fixture.hpp"

using namespace rmm::test;
using json = nlohmann::json;

namespace {

constexpr const char* kTemplates = "/api/prompts/templates";

class Prompts : public ServerSuite {
 protected:
  static HttpResponse get(const std::string& target) { return http_get(port(), target); }
  static HttpResponse send(const std::string& method, const std::string& target, const std::string& body) {
    return http_request(port(), method, target, body, {{"Content-Type", "application/json"}});
  }
  static HttpResponse send(const std::string& method, const std::string& target, const json& body) {
    return send(method, target, body.dump());
  }
  static json ok(const HttpResponse& r, int status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    return r.json();
  }
  // A 400 whose param names `field`.
  static void expect_bad(const HttpResponse& r, const std::string& field) {
    expect_openai_error(r, 400);
    EXPECT_EQ(r.json()["error"]["param"], field) << r.body;
  }
  static json greeting(const std::string& name) {
    return {{"name", name},
            {"description", "says hello"},
            {"tags", {"test"}},
            {"blocks",
             {{{"type", "system"}, {"text", "You greet people in {{language}}."}},
              {{"type", "user"}, {"text", "Say hello to {{who}}, {{times}} times."}},
              {{"type", "parameters"}, {"temperature", 0}, {"max_tokens", 12}}}},
            {"variables",
             {{{"name", "language"},
               {"type", "select"},
               {"options", {"English", "French"}},
               {"default", "English"}},
              {{"name", "who"}, {"type", "text"}, {"required", true}},
              {{"name", "times"}, {"type", "number"}, {"min", 1}, {"max", 3}, {"default", 1}}}}};
  }
};

}  // namespace

TEST_F(Prompts, StartersAreListed) {
  const json list = ok(get(kTemplates));
  std::set<std::string> ids;
  for (const auto& t : list["templates"]) ids.insert(t["id"].get<std::string>());
  for (const char* id : {"coding-assistant", "writing-assistant", "data-analysis", "summarize", "translate",
                         "json-extraction"})
    EXPECT_TRUE(ids.count(id)) << id;
  const json one = ok(get(std::string(kTemplates) + "/summarize"));
  for (const char* key : {"id", "name", "description", "tags", "version", "blocks", "variables"})
    EXPECT_TRUE(one.contains(key)) << key;
}

TEST_F(Prompts, CreateUpdateVersionsDiffDelete) {
  const json created = ok(send("POST", kTemplates, greeting("Hello Test")), 201);
  EXPECT_EQ(created["id"], "hello-test");
  EXPECT_EQ(created["version"], 1);
  // The same name again is a conflict (below); so is an explicit taken id.
  json taken = greeting("Other");
  taken["id"] = "hello-test";
  expect_openai_error(send("POST", kTemplates, taken), 409);

  const std::string url = std::string(kTemplates) + "/hello-test";
  json v2 = greeting("Hello Test v2");
  v2["blocks"][1]["text"] = "Greet {{who}} warmly, {{times}} times.";
  v2["variables"].push_back({{"name", "extra"}, {"type", "boolean"}});
  const json updated = ok(send("PUT", url, v2));
  EXPECT_EQ(updated["version"], 2);
  EXPECT_EQ(updated["id"], "hello-test");

  EXPECT_EQ(ok(get(url))["name"], "Hello Test v2");
  EXPECT_EQ(ok(get(url + "?version=1"))["name"], "Hello Test");
  expect_openai_error(get(url + "?version=9"), 404);
  expect_bad(get(url + "?version=x"), "version");

  // Only a new message is no new version: the message is a note, not content.
  json noted = v2;
  noted["message"] = "just a note";
  EXPECT_EQ(ok(send("PUT", url, noted))["unchanged"], true);

  const json versions = ok(get(url + "/versions"));
  ASSERT_EQ(versions["versions"].size(), 2u);
  EXPECT_EQ(versions["versions"][0]["message"], "");
  EXPECT_EQ(versions["versions"][0]["version"], 1);
  EXPECT_EQ(versions["versions"][1]["name"], "Hello Test v2");

  const json d = ok(get(url + "/diff?from=1&to=2"));
  EXPECT_EQ(d["fields"]["name"]["old"], "Hello Test");
  EXPECT_EQ(d["fields"]["name"]["new"], "Hello Test v2");
  ASSERT_EQ(d["blocks"]["changed"].size(), 1u);
  EXPECT_EQ(d["blocks"]["changed"][0]["index"], 1);
  EXPECT_EQ(d["variables"]["added"][0]["name"], "extra");
  EXPECT_EQ(ok(get(url + "/diff"))["from"], 1);  // default: latest against the one before
  expect_openai_error(get(url + "/diff?from=1&to=5"), 404);

  json wrong_id = v2;
  wrong_id["id"] = "someone-else";
  expect_bad(send("PUT", url, wrong_id), "id");
  expect_openai_error(send("PUT", std::string(kTemplates) + "/no-such-template", v2), 404);

  EXPECT_EQ(ok(send("DELETE", url, std::string()))["deleted"], "hello-test");
  expect_openai_error(get(url), 404);
  expect_openai_error(get(url + "/versions"), 404);
  expect_openai_error(send("DELETE", url, std::string()), 404);
  expect_openai_error(get(std::string(kTemplates) + "/..%2F..%2Fetc"), 404);
}

TEST_F(Prompts, ATakenNameIsAConflictAndTheSameContentAddsNoVersion) {
  const json created = ok(send("POST", kTemplates, greeting("Twice Named")), 201);
  const std::string id = created["id"];
  const std::string url = std::string(kTemplates) + "/" + id;
  // Another template under that name (any case) and no id: 409 naming the one there and how to add a version.
  json other = greeting("twice named");
  other["description"] = "something else";
  const auto conflict = send("POST", kTemplates, other);
  expect_openai_error(conflict, 409);
  const std::string message = conflict.json()["error"]["message"];
  EXPECT_NE(message.find("'Twice Named'"), std::string::npos) << message;
  EXPECT_NE(message.find("PUT /api/prompts/templates/" + id), std::string::npos) << message;
  EXPECT_EQ(conflict.json()["error"]["param"], "name");

  // What the latest version already says (a second import of one file): 200 with it, nothing added.
  const auto expect_unchanged = [&](const json& j) {
    EXPECT_EQ(j["id"], id);
    EXPECT_EQ(j["version"], 1);
    EXPECT_EQ(j["unchanged"], true);
  };
  expect_unchanged(ok(send("POST", kTemplates, greeting("Twice Named")), 200));
  json with_id = greeting("Twice Named");
  with_id["id"] = id;
  expect_unchanged(ok(send("POST", kTemplates, with_id), 200));
  expect_unchanged(ok(send("PUT", url, greeting("Twice Named"))));
  EXPECT_EQ(ok(get(url + "/versions"))["versions"].size(), 1u);

  // A change is a new version, as before, with its note kept and listed.
  other["message"] = "another description";
  const json v2 = ok(send("PUT", url, other));
  EXPECT_EQ(v2["version"], 2);
  EXPECT_EQ(v2["message"], "another description");
  EXPECT_FALSE(v2.contains("unchanged"));
  const json versions = ok(get(url + "/versions"));
  ASSERT_EQ(versions["versions"].size(), 2u);
  EXPECT_EQ(versions["versions"][1]["message"], "another description");
  ok(send("DELETE", url, std::string()));
}

TEST_F(Prompts, BadTemplatesAreRejectedAndNothingIsStored) {
  const auto count = [] { return ok(get(kTemplates))["templates"].size(); };
  const size_t before = count();
  json t = greeting("Bad");
  t["blocks"][0]["type"] = "narrator";
  expect_bad(send("POST", kTemplates, t), "blocks[0].type");
  t = greeting("Bad");
  t["blocks"][1]["text"] = "Hi {{nobody}}";
  expect_bad(send("POST", kTemplates, t), "blocks[1].text");
  EXPECT_TRUE(error_names(send("POST", kTemplates, t), "nobody"));
  t = greeting("Bad");
  t["variables"][1]["default"] = "{{who}}";
  expect_bad(send("POST", kTemplates, t), "variables[1].default");
  t = greeting("Bad");
  for (int i = 0; i < 70; ++i) t["blocks"].push_back({{"type", "user"}, {"text", "x"}});
  expect_bad(send("POST", kTemplates, t), "blocks");
  t = greeting("Bad");
  t["description"] = std::string(60000, 'x');  // within the server's body limit, over the template limit
  t["blocks"][0]["text"] = std::string(60000, 'y') + "{{language}}";
  EXPECT_EQ(send("POST", kTemplates, t).status, 413);  // the test server's --max-body is 64 KiB
  expect_openai_error(send("POST", kTemplates, std::string("{\"name\": \"\xff\"}")), 400);
  expect_openai_error(send("POST", kTemplates, std::string("{\"name\": ")), 400);
  EXPECT_EQ(count(), before);

  // SQL-special text is stored and read back as it is.
  json sql = greeting("Robert'); DROP TABLE templates;--");
  sql["description"] = "' OR '1'='1; -- \" \\ % _ ;";
  sql["tags"] = {"a'b", "c;d", "100%"};
  sql["blocks"][0]["text"] = "'; DELETE FROM template_versions; -- {{language}}";
  const json saved = ok(send("POST", kTemplates, sql), 201);
  const json back = ok(get(std::string(kTemplates) + "/" + saved["id"].get<std::string>()));
  EXPECT_EQ(back["name"], sql["name"]);
  EXPECT_EQ(back["description"], sql["description"]);
  EXPECT_EQ(back["tags"], sql["tags"]);
  EXPECT_EQ(back["blocks"][0]["text"], sql["blocks"][0]["text"]);
  EXPECT_EQ(count(), before + 1);
}

TEST_F(Prompts, BuildGivesMessagesAndParamsOrNamesTheVariable) {
  const json built = ok(send("POST", "/api/prompts/build",
                             json{{"template", greeting("Inline")}, {"values", {{"who", "Ada"}}}}));
  EXPECT_EQ(built["messages"], json::parse(R"([{"role": "system", "content": "You greet people in English."},
    {"role": "user", "content": "Say hello to Ada, 1 times."}])"));
  EXPECT_EQ(built["params"], json::parse(R"({"temperature": 0, "max_tokens": 12})"));

  const json starter = ok(send("POST", "/api/prompts/build",
                               json{{"template_id", "translate"}, {"values", {{"target", "German"}}}}));
  EXPECT_NE(starter["messages"][0]["content"].get<std::string>().find("into German"), std::string::npos);
  EXPECT_EQ(starter["template"]["id"], "translate");

  const auto build = [](const json& values) {
    return send("POST", "/api/prompts/build", json{{"template", greeting("Inline")}, {"values", values}});
  };
  expect_bad(build(json::object()), "values.who");
  EXPECT_TRUE(error_names(build(json::object()), "who"));
  expect_bad(build({{"who", "x"}, {"language", "Klingon"}}), "values.language");
  expect_bad(build({{"who", "x"}, {"times", 4}}), "values.times");
  expect_bad(build({{"who", "x"}, {"times", "two"}}), "values.times");
  expect_bad(build({{"who", "x"}, {"whom", "y"}}), "values");
  EXPECT_TRUE(error_names(build({{"who", "x"}, {"whom", "y"}}), "whom"));
  json bad_inline = greeting("Inline");
  bad_inline["blocks"][0]["type"] = "narrator";
  expect_bad(send("POST", "/api/prompts/build", json{{"template", bad_inline}}), "template.blocks[0].type");
  // The message names the field once, under its path in the body.
  json undefined_var = greeting("Inline");
  undefined_var["blocks"][1]["text"] = "Hi {{nobody}}";
  const auto r = send("POST", "/api/prompts/build", json{{"template", undefined_var}});
  expect_bad(r, "template.blocks[1].text");
  EXPECT_EQ(r.json()["error"]["message"],
            "template.blocks[1].text: {{nobody}} in block 1 is not a defined variable");
  expect_openai_error(send("POST", "/api/prompts/build", json{{"template_id", "nothing-here"}}), 404);
  expect_bad(send("POST", "/api/prompts/build", json{{"values", json::object()}}), "template_id");
}

TEST_F(Prompts, RunAnswersAsChatCompletionsDoes) {
  const json tmpl = greeting("Run me");
  const json values = {{"who", "Tom"}, {"times", 2}};
  const json built = ok(send("POST", "/api/prompts/build", json{{"template", tmpl}, {"values", values}}));
  json chat_body = built["params"];
  chat_body["messages"] = built["messages"];
  chat_body["model"] = kModelId;
  chat_body["cache"] = false;  // computed here, not replayed: the run below must produce it on its own
  const std::string expected = chat(chat_body)["choices"][0]["message"]["content"];
  ASSERT_FALSE(expected.empty());

  const json answer =
      ok(send("POST", "/api/prompts/run",
              json{{"template", tmpl}, {"values", values}, {"model", kModelId}, {"stream", false}}));
  EXPECT_EQ(answer["object"], "chat.completion");
  EXPECT_EQ(answer["choices"][0]["message"]["content"], expected);
  EXPECT_EQ(answer["usage"]["completion_tokens"], 12);

  // Streaming is the default.
  SseStream stream(port(), "/api/prompts/run", json{{"template", tmpl}, {"values", values}});
  ASSERT_EQ(stream.head().status, 200);
  std::string text;
  for (const auto& p : read_sse_payloads(stream)) {
    const auto& delta = p["choices"][0]["delta"];
    if (delta.contains("content")) text += delta["content"].get<std::string>();
  }
  EXPECT_EQ(text, expected);

  // stream_options passes through: the stream ends with the usage.
  SseStream counted(
      port(), "/api/prompts/run",
      json{{"template", tmpl}, {"values", values}, {"stream_options", {{"include_usage", true}}}});
  ASSERT_EQ(counted.head().status, 200);
  json usage;
  for (const auto& p : read_sse_payloads(counted)) {
    if (p.contains("usage") && p["usage"].is_object()) usage = p["usage"];
  }
  EXPECT_EQ(usage["completion_tokens"], 12);

  // logprobs and top_logprobs pass through (the Prompt Architect's token view): each token's entry,
  // with its alternatives, and the same answer.
  const json probed = ok(send("POST", "/api/prompts/run",
                              json{{"template", tmpl},
                                   {"values", values},
                                   {"stream", false},
                                   {"logprobs", true},
                                   {"top_logprobs", 3}}));
  EXPECT_EQ(probed["choices"][0]["message"]["content"], expected);
  const json& entries = probed["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(entries.size(), 12u) << probed.dump();
  EXPECT_EQ(entries[0]["top_logprobs"].size(), 3u);
  EXPECT_TRUE(entries[0].contains("token_id"));

  expect_bad(send("POST", "/api/prompts/run", json{{"template", tmpl}, {"values", json::object()}}),
             "values.who");
  expect_openai_error(
      send("POST", "/api/prompts/run", json{{"template", tmpl}, {"values", values}, {"model", "not-loaded"}}),
      404);
}
