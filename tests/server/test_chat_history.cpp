// Chat history over real HTTP: conversations stored by /v1/chat/completions
// when asked (rmm_conversation_id or X-RMM-Conversation), and the
// /api/chat/history routes the front ends use (list, search, read, rename,
// delete, append, export).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/subprocess.hpp"
#include "server_fixture.hpp"
#include "support/test_env.hpp"

using namespace rmm::test;
using json = nlohmann::json;

namespace {

constexpr const char* kHistory = "/api/chat/history";

class ChatHistory : public ServerSuite {
 protected:
  static HttpResponse get(const std::string& target) { return http_get(port(), target); }
  static HttpResponse send(const std::string& method, const std::string& target, const json& body,
                           Headers headers = {}) {
    headers.emplace_back("Content-Type", "application/json");
    return http_request(port(), method, target, body.dump(), headers);
  }
  static json ok(const HttpResponse& r, int status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    return r.json();
  }
  static json conversation(const std::string& id) { return ok(get(std::string(kHistory) + "/" + id)); }
  // A short greedy chat request.
  static json chat_body(const json& messages, int max_tokens = 6) {
    return {{"model", kModelId}, {"messages", messages}, {"max_tokens", max_tokens}, {"temperature", 0}};
  }
  // Conversations matching `q`.
  static json search(const std::string& q, const std::string& extra = "") {
    return ok(get(std::string(kHistory) + "?q=" + q + extra));
  }
  // A stored conversation made through the UI route, returning its id.
  static std::string create(const json& body) { return ok(send("POST", kHistory, body), 201).at("id"); }
};

}  // namespace

TEST_F(ChatHistory, BodyFieldStoresTheConversationAndTheNextTurnAppends) {
  const json first = {{"role", "system"}, {"content", "Be kind."}};
  const json question = {{"role", "user"}, {"content", "Tell me about the zebra"}};
  json body = chat_body({first, question});
  body["rmm_conversation_id"] = "new";
  const auto r = send("POST", "/v1/chat/completions", body);
  const json answer = ok(r);
  const std::string id = answer.at("rmm_conversation_id");
  EXPECT_EQ(r.header("X-RMM-Conversation"), id);
  EXPECT_EQ(id.size(), 32u);

  json c = conversation(id);
  EXPECT_EQ(c.at("title"), "Tell me about the zebra");
  EXPECT_EQ(c.at("model"), kModelId);
  EXPECT_EQ(c.at("params").at("max_tokens"), 6);
  EXPECT_EQ(c.at("params").at("temperature"), 0);
  ASSERT_EQ(c.at("messages").size(), 3u) << c.dump();
  EXPECT_EQ(c.at("message_count"), 3);
  EXPECT_EQ(c.at("messages")[0].at("role"), "system");
  EXPECT_EQ(c.at("messages")[1].at("content"), "Tell me about the zebra");
  const json& stored = c.at("messages")[2];
  const std::string text = answer.at("choices")[0].at("message").at("content");
  EXPECT_EQ(stored.at("role"), "assistant");
  EXPECT_EQ(stored.at("content"), text);
  EXPECT_EQ(stored.at("model"), kModelId);
  EXPECT_EQ(stored.at("prompt_tokens"), answer.at("usage").at("prompt_tokens"));
  EXPECT_EQ(stored.at("completion_tokens"), answer.at("usage").at("completion_tokens"));
  EXPECT_GT(stored.at("timings").at("generation_ms").get<double>(), 0.0);
  EXPECT_TRUE(stored.at("timings").contains("prompt_tokens_per_second"));
  EXPECT_TRUE(stored.at("logprobs").is_null()) << "logprobs are kept only when asked for";

  // The client resends its history with the next question: only the new turn is stored.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  json next = chat_body({first,
                         question,
                         {{"role", "assistant"}, {"content", text}},
                         {{"role", "user"}, {"content", "And then?"}}});
  next["rmm_conversation_id"] = id;
  const json second = ok(send("POST", "/v1/chat/completions", next));
  EXPECT_EQ(second.at("rmm_conversation_id"), id);
  c = conversation(id);
  ASSERT_EQ(c.at("messages").size(), 5u) << c.dump();
  EXPECT_EQ(c.at("messages")[3].at("content"), "And then?");
  EXPECT_EQ(c.at("messages")[4].at("content"), second.at("choices")[0].at("message").at("content"));
  EXPECT_GT(c.at("updated_at").get<int64_t>(), c.at("created_at").get<int64_t>());
  EXPECT_EQ(c.at("title"), "Tell me about the zebra");
}

TEST_F(ChatHistory, HeaderStoresAndAppendsToo) {
  const auto r =
      send("POST", "/v1/chat/completions", chat_body({{{"role", "user"}, {"content", "Hello giraffe"}}}),
           {{"X-RMM-Conversation", "new"}});
  const json a = ok(r);
  const std::string id = r.header("X-RMM-Conversation");
  ASSERT_FALSE(id.empty()) << r.body;
  EXPECT_EQ(a.at("rmm_conversation_id"), id);
  EXPECT_EQ(conversation(id).at("messages").size(), 2u);
  // A client that sends only its new message.
  const auto r2 = send("POST", "/v1/chat/completions", chat_body({{{"role", "user"}, {"content", "More"}}}),
                       {{"X-RMM-Conversation", id}});
  ok(r2);
  EXPECT_EQ(r2.header("X-RMM-Conversation"), id);
  const json c = conversation(id);
  ASSERT_EQ(c.at("messages").size(), 4u);
  EXPECT_EQ(c.at("messages")[2].at("content"), "More");
  EXPECT_EQ(c.at("messages")[3].at("role"), "assistant");
}

TEST_F(ChatHistory, StreamCarriesTheIdAndStoresTheAnswerWithLogprobs) {
  json body = chat_body({{{"role", "user"}, {"content", "A story about an okapi"}}}, 8);
  body["stream"] = true;
  body["logprobs"] = true;
  body["top_logprobs"] = 2;
  body["rmm_conversation_id"] = "new";
  SseStream s(port(), "/v1/chat/completions", body);
  ASSERT_EQ(s.head().status, 200);
  const std::string id = s.head().header("X-RMM-Conversation");
  ASSERT_EQ(id.size(), 32u);
  const auto payloads = read_sse_payloads(s);
  ASSERT_FALSE(payloads.empty());
  EXPECT_EQ(payloads[0].at("rmm_conversation_id"), id);
  std::string text;
  size_t tagged = 0;
  for (const auto& p : payloads) {
    tagged += p.contains("rmm_conversation_id");
    for (const auto& ch : p.at("choices")) {
      if (ch.at("delta").contains("content")) text += ch.at("delta").at("content").get<std::string>();
    }
  }
  EXPECT_EQ(tagged, 1u) << "only the first chunk names the conversation";
  const json c = conversation(id);
  ASSERT_EQ(c.at("messages").size(), 2u);
  const json& answer = c.at("messages")[1];
  EXPECT_EQ(answer.at("content"), text);
  ASSERT_TRUE(answer.at("logprobs").is_array()) << answer.dump();
  EXPECT_EQ(answer.at("logprobs").size(), answer.at("completion_tokens").get<size_t>());
  // Kept in the one token event shape (README): the id, text, log-probability and alternatives.
  const json& first = answer.at("logprobs")[0];
  EXPECT_TRUE(first.at("token_id").is_number_integer()) << first.dump();
  EXPECT_TRUE(first.at("logprob").is_number()) << first.dump();
  EXPECT_EQ(first.at("alternatives").size(), 2u) << first.dump();
}

TEST_F(ChatHistory, NothingIsStoredWithoutTheFieldOrHeader) {
  const int before = ok(get(kHistory)).at("total");
  const auto r =
      send("POST", "/v1/chat/completions", chat_body({{{"role", "user"}, {"content", "Untracked"}}}));
  const json a = ok(r);
  EXPECT_FALSE(a.contains("rmm_conversation_id"));
  EXPECT_FALSE(r.has_header("X-RMM-Conversation"));
  EXPECT_EQ(ok(get(kHistory)).at("total"), before);
  EXPECT_EQ(search("Untracked").at("total"), 0);
}

TEST_F(ChatHistory, ListIsNewestFirstWithPagingTotalAndSearch) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(
        create({{"title", "pagetest " + std::to_string(i)},
                {"model", "m"},
                {"messages", {{{"role", "user"}, {"content", "word" + std::to_string(i) + " pangolin"}}}}}));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  json all = search("pagetest");
  EXPECT_EQ(all.at("total"), 3);
  ASSERT_EQ(all.at("items").size(), 3u);
  EXPECT_EQ(all.at("items")[0].at("id"), ids[2]);
  EXPECT_EQ(all.at("items")[1].at("id"), ids[1]);
  EXPECT_EQ(all.at("items")[2].at("id"), ids[0]);
  EXPECT_EQ(all.at("items")[0].at("message_count"), 1);
  EXPECT_EQ(all.at("items")[0].at("title"), "pagetest 2");
  EXPECT_EQ(all.at("items")[0].at("model"), "m");
  EXPECT_EQ(all.at("limit"), 50);
  EXPECT_EQ(all.at("offset"), 0);

  const json page1 = search("pagetest", "&limit=2");
  EXPECT_EQ(page1.at("total"), 3);
  ASSERT_EQ(page1.at("items").size(), 2u);
  EXPECT_EQ(page1.at("items")[0].at("id"), ids[2]);
  const json page2 = search("pagetest", "&limit=2&offset=2");
  EXPECT_EQ(page2.at("total"), 3);
  ASSERT_EQ(page2.at("items").size(), 1u);
  EXPECT_EQ(page2.at("items")[0].at("id"), ids[0]);
  EXPECT_EQ(page2.at("offset"), 2);

  // Full text over message contents; an append makes a conversation the newest.
  const json one = search("word1");
  ASSERT_EQ(one.at("total"), 1);
  EXPECT_EQ(one.at("items")[0].at("id"), ids[1]);
  EXPECT_EQ(search("pangolin").at("total"), 3);
  EXPECT_EQ(search("no%20such%20words%20here").at("total"), 0);
  ok(send("POST", std::string(kHistory) + "/" + ids[0] + "/messages",
          {{"role", "assistant"}, {"content", "hi"}}),
     201);
  EXPECT_EQ(search("pagetest").at("items")[0].at("id"), ids[0]);
}

TEST_F(ChatHistory, CreateAppendRenameDelete) {
  // Untitled: the first user message names it, cut at 80 characters.
  const std::string id = create(json::object());
  EXPECT_EQ(conversation(id).at("title"), "");
  const std::string long_text(100, 'x');
  const json added = ok(send("POST", std::string(kHistory) + "/" + id + "/messages",
                             {{"messages",
                               {{{"role", "system"}, {"content", "sys"}},
                                {{"role", "user"}, {"content", long_text}},
                                {{"role", "assistant"},
                                 {"content", "ok"},
                                 {"model", "m"},
                                 {"prompt_tokens", 3},
                                 {"completion_tokens", 1},
                                 {"timings", {{"generation_ms", 1.5}}},
                                 {"logprobs", json::array({{{"token", "ok"}, {"logprob", -0.5}}})}}}}}),
                        201);
  ASSERT_EQ(added.at("messages").size(), 3u);
  EXPECT_GT(added.at("messages")[2].at("id").get<int64_t>(), added.at("messages")[1].at("id").get<int64_t>());
  json c = conversation(id);
  EXPECT_EQ(c.at("title"), std::string(80, 'x') + "…");
  ASSERT_EQ(c.at("messages").size(), 3u);
  EXPECT_EQ(c.at("messages")[2].at("prompt_tokens"), 3);
  EXPECT_EQ(c.at("messages")[2].at("timings").at("generation_ms"), 1.5);
  EXPECT_EQ(c.at("messages")[2].at("logprobs")[0].at("logprob"), -0.5);

  const json renamed = ok(send("PATCH", std::string(kHistory) + "/" + id, {{"title", "Renamed ✓"}}));
  EXPECT_EQ(renamed.at("title"), "Renamed ✓");
  EXPECT_EQ(conversation(id).at("title"), "Renamed ✓");
  EXPECT_EQ(search("Renamed").at("items")[0].at("id"), id);

  const auto del = http_request(port(), "DELETE", std::string(kHistory) + "/" + id);
  EXPECT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(get(std::string(kHistory) + "/" + id).status, 404);
  EXPECT_EQ(http_request(port(), "DELETE", std::string(kHistory) + "/" + id).status, 404);
}

TEST_F(ChatHistory, ExportAsJsonAndMarkdown) {
  const std::string code = "Here:\n\n```python\ndef f(x):\n    return x * 2\n```\n";
  const std::string id = create({{"title", "Export me"},
                                 {"model", "stories260K"},
                                 {"messages",
                                  {{{"role", "system"}, {"content", "Be brief."}},
                                   {{"role", "user"}, {"content", "Show code"}},
                                   {{"role", "assistant"}, {"content", code}, {"completion_tokens", 9}},
                                   {{"role", "user"}, {"content", "Unclosed:\n```js\nlet a = 1;"}},
                                   {{"role", "assistant"}, {"content", "Done"}}}}});
  const auto j = get(std::string(kHistory) + "/" + id + "/export?format=json");
  ASSERT_EQ(j.status, 200) << j.body;
  EXPECT_EQ(j.header("Content-Disposition"), "attachment; filename=\"chat-" + id + ".json\"");
  const json exported = j.json();
  EXPECT_EQ(exported.at("title"), "Export me");
  ASSERT_EQ(exported.at("messages").size(), 5u);
  EXPECT_EQ(exported.at("messages")[2].at("content"), code);
  EXPECT_EQ(exported, conversation(id)) << "the JSON export is the conversation as GET shows it";
  EXPECT_EQ(get(std::string(kHistory) + "/" + id + "/export").json(), exported) << "json is the default";

  const auto m = get(std::string(kHistory) + "/" + id + "/export?format=markdown");
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(m.header("Content-Disposition"), "attachment; filename=\"chat-" + id + ".md\"");
  EXPECT_EQ(m.header("Content-Type").rfind("text/markdown", 0), 0u);
  const std::string& md = m.body;
  EXPECT_EQ(md.rfind("# Export me\n", 0), 0u) << md;
  EXPECT_NE(md.find("- Model: stories260K\n"), std::string::npos) << md;
  const auto sys = md.find("\n## System\n\nBe brief.\n");
  const auto user = md.find("\n## User\n\nShow code\n");
  const auto assistant = md.find("\n## Assistant\n\n" + code);
  ASSERT_NE(sys, std::string::npos) << md;
  ASSERT_NE(user, std::string::npos) << md;
  ASSERT_NE(assistant, std::string::npos) << "code blocks verbatim:\n" << md;
  EXPECT_LT(sys, user);
  EXPECT_LT(user, assistant);
  // A fence left open by a message is closed so that the next heading stays a heading.
  EXPECT_NE(md.find("Unclosed:\n```js\nlet a = 1;\n```\n\n## Assistant\n\nDone\n"), std::string::npos) << md;
  EXPECT_EQ(get(std::string(kHistory) + "/" + id + "/export?format=md").body, md);
}

TEST_F(ChatHistory, BadRequestsNameTheField) {
  const std::string id = create({{"title", "errors"}});
  const std::string one = std::string(kHistory) + "/" + id;
  for (const char* q : {"?limit=0", "?limit=201", "?limit=abc", "?limit=", "?offset=-1", "?offset=1.5"}) {
    const auto r = get(std::string(kHistory) + q);
    expect_openai_error(r, 400);
    EXPECT_TRUE(error_names(r, std::string(q).find("limit") != std::string::npos ? "limit" : "offset"))
        << q << ": " << r.body;
  }
  const auto bad_q = get(std::string(kHistory) + "?q=%FF%FE");
  expect_openai_error(bad_q, 400);
  EXPECT_TRUE(error_names(bad_q, "q"));

  for (const json& body : {json{{"title", 5}}, json{{"title", ""}}, json{{"title", "   "}}, json::object(),
                           json{{"title", nullptr}}}) {
    const auto r = send("PATCH", one, body);
    expect_openai_error(r, 400);
    EXPECT_TRUE(error_names(r, "title")) << body.dump() << ": " << r.body;
  }
  const auto long_title = send("PATCH", one, {{"title", std::string(1001, 'a')}});
  expect_openai_error(long_title, 400);
  EXPECT_TRUE(error_names(long_title, "title"));
  expect_openai_error(send("POST", kHistory, {{"title", 7}}), 400);
  expect_openai_error(send("POST", kHistory, {{"params", "hot"}}), 400);
  expect_openai_error(send("POST", kHistory, {{"model", 1}}), 400);
  const auto bad_list = send("POST", kHistory, {{"messages", "hi"}});
  expect_openai_error(bad_list, 400);
  EXPECT_TRUE(error_names(bad_list, "messages"));
  const auto bad_msg = send("POST", kHistory, {{"messages", {{{"role", "robot"}, {"content", "x"}}}}});
  expect_openai_error(bad_msg, 400);
  EXPECT_TRUE(error_names(bad_msg, "role")) << bad_msg.body;
  for (const auto& [body, field] : std::vector<std::pair<json, std::string>>{
           {{{"role", "user"}}, "content"},
           {{{"role", "user"}, {"content", 3}}, "content"},
           {{{"content", "x"}}, "role"},
           {{{"role", "user"}, {"content", "x"}, {"prompt_tokens", -1}}, "prompt_tokens"},
           {{{"role", "user"}, {"content", "x"}, {"timings", 1}}, "timings"},
           {{{"role", "user"}, {"content", "x"}, {"logprobs", "x"}}, "logprobs"},
           {{{"messages", {1}}}, "messages"}}) {
    const auto r = send("POST", one + "/messages", body);
    expect_openai_error(r, 400);
    EXPECT_TRUE(error_names(r, field)) << body.dump() << ": " << r.body;
  }
  // Bodies that are not JSON objects, or not UTF-8.
  expect_openai_error(
      http_request(port(), "PATCH", one, "{\"title\": \"\xff\"}", {{"Content-Type", "application/json"}}),
      400);
  expect_openai_error(http_request(port(), "PATCH", one, "{nope", {{"Content-Type", "application/json"}}),
                      400);
  expect_openai_error(
      http_request(port(), "PATCH", one, "{\"title\":\"x\"}", {{"Content-Type", "text/plain"}}), 415);
  const auto fmt = get(one + "/export?format=pdf");
  expect_openai_error(fmt, 400);
  EXPECT_TRUE(error_names(fmt, "format"));

  // Unknown ids are 404 on every route.
  const std::string missing = std::string(kHistory) + "/0123456789abcdef0123456789abcdef";
  expect_openai_error(get(missing), 404);
  expect_openai_error(get(missing + "/export?format=markdown"), 404);
  expect_openai_error(send("PATCH", missing, {{"title", "x"}}), 404);
  expect_openai_error(http_request(port(), "DELETE", missing), 404);
  expect_openai_error(send("POST", missing + "/messages", {{"role", "user"}, {"content", "x"}}), 404);
  EXPECT_EQ(http_request(port(), "PUT", one, "{}", {{"Content-Type", "application/json"}}).status, 405);
  EXPECT_EQ(conversation(id).at("messages").size(), 0u) << "nothing was appended by the bad requests";
}

TEST_F(ChatHistory, BadConversationIdsOnChatCompletionsFailBeforeGenerating) {
  const json msgs = {{{"role", "user"}, {"content", "Hi"}}};
  json unknown = chat_body(msgs, 200);
  unknown["rmm_conversation_id"] = "0123456789abcdef0123456789abcdef";
  const auto started = std::chrono::steady_clock::now();
  const auto r = send("POST", "/v1/chat/completions", unknown);
  expect_openai_error(r, 404);
  EXPECT_TRUE(error_names(r, "rmm_conversation_id")) << r.body;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  const auto via_header = send("POST", "/v1/chat/completions", chat_body(msgs),
                               {{"X-RMM-Conversation", "0123456789abcdef0123456789abcdef"}});
  expect_openai_error(via_header, 404);

  for (const json& v : {json(5), json(""), json(true), json(std::string(200, 'a'))}) {
    json b = chat_body(msgs);
    b["rmm_conversation_id"] = v;
    const auto bad = send("POST", "/v1/chat/completions", b);
    expect_openai_error(bad, 400);
    EXPECT_TRUE(error_names(bad, "rmm_conversation_id")) << v.dump() << ": " << bad.body;
  }
  json both = chat_body(msgs);
  both["rmm_conversation_id"] = "new";
  expect_openai_error(send("POST", "/v1/chat/completions", both, {{"X-RMM-Conversation", "abc"}}), 400);
  // A bad request with "new" stores nothing.
  const int before = ok(get(kHistory)).at("total");
  json invalid = chat_body(msgs);
  invalid["rmm_conversation_id"] = "new";
  invalid["temperature"] = "hot";
  expect_openai_error(send("POST", "/v1/chat/completions", invalid), 400);
  EXPECT_EQ(ok(get(kHistory)).at("total"), before);
}

// A conversation is a tree: regenerate adds a sibling answer, edit-and-resend a
// sibling question (or a new root), and current_leaf picks the branch in view.
TEST_F(ChatHistory, BranchesParentsAndTheCurrentLeaf) {
  const std::string id = create(
      {{"title", "Branches"},
       {"messages",
        {{{"role", "user"}, {"content", "Name a fruit"}}, {{"role", "assistant"}, {"content", "Apple"}}}}});
  const std::string one = std::string(kHistory) + "/" + id;
  json c = conversation(id);
  ASSERT_EQ(c.at("messages").size(), 2u) << c.dump();
  const int64_t question = c.at("messages")[0].at("id");
  const int64_t apple = c.at("messages")[1].at("id");
  EXPECT_TRUE(c.at("messages")[0].at("parent_id").is_null()) << "a root has no parent";
  EXPECT_EQ(c.at("messages")[1].at("parent_id"), question);
  EXPECT_EQ(c.at("current_leaf"), apple);

  // Regenerate: another answer to the same question.
  const json regen = ok(
      send("POST", one + "/messages", {{"role", "assistant"}, {"content", "Banana"}, {"parent", question}}),
      201);
  ASSERT_EQ(regen.at("messages").size(), 1u) << regen.dump();
  const int64_t banana = regen.at("messages")[0].at("id");
  EXPECT_EQ(regen.at("messages")[0].at("parent_id"), question);
  EXPECT_EQ(regen.at("messages")[0].at("content"), "Banana");
  EXPECT_EQ(regen.at("current_leaf"), banana);
  c = conversation(id);
  EXPECT_EQ(c.at("messages").size(), 3u) << "every branch is returned";
  EXPECT_EQ(c.at("message_count"), 3);
  EXPECT_EQ(c.at("current_leaf"), banana);

  // Markdown exports the path in view only.
  const auto markdown = [&] { return get(one + "/export?format=markdown").body; };
  std::string md = markdown();
  EXPECT_NE(md.find("\n## User\n\nName a fruit\n"), std::string::npos) << md;
  EXPECT_NE(md.find("\n## Assistant\n\nBanana\n"), std::string::npos) << md;
  EXPECT_EQ(md.find("Apple"), std::string::npos) << md;

  // Switch back to the first answer (the title may change in the same request).
  const json patched = ok(send("PATCH", one, {{"current_leaf", apple}}));
  EXPECT_EQ(patched.at("current_leaf"), apple);
  EXPECT_EQ(patched.at("title"), "Branches");
  EXPECT_EQ(conversation(id).at("current_leaf"), apple);
  md = markdown();
  EXPECT_NE(md.find("\n## Assistant\n\nApple\n"), std::string::npos) << md;
  EXPECT_EQ(md.find("Banana"), std::string::npos) << md;

  // No parent: after the current leaf, as a batch chain.
  const json more =
      ok(send("POST", one + "/messages",
              {{"messages",
                {{{"role", "user"}, {"content", "Why?"}}, {{"role", "assistant"}, {"content", "Red"}}}}}),
         201);
  ASSERT_EQ(more.at("messages").size(), 2u);
  EXPECT_EQ(more.at("messages")[0].at("parent_id"), apple);
  EXPECT_EQ(more.at("messages")[1].at("parent_id"), more.at("messages")[0].at("id"));
  EXPECT_EQ(more.at("current_leaf"), more.at("messages")[1].at("id"));
  md = markdown();
  EXPECT_LT(md.find("Apple"), md.find("Why?")) << md;
  EXPECT_LT(md.find("Why?"), md.find("Red")) << md;

  // Edit and resend the first question: a new root (parent null), or a batch under a given parent.
  const json edited = ok(send("POST", one + "/messages",
                              {{"role", "user"}, {"content", "Name a vegetable"}, {"parent", nullptr}}),
                         201);
  const int64_t vegetable = edited.at("messages")[0].at("id");
  EXPECT_TRUE(edited.at("messages")[0].at("parent_id").is_null());
  const json under =
      ok(send("POST", one + "/messages",
              {{"parent", vegetable}, {"messages", {{{"role", "assistant"}, {"content", "Leek"}}}}}),
         201);
  EXPECT_EQ(under.at("messages")[0].at("parent_id"), vegetable);
  c = conversation(id);
  EXPECT_EQ(c.at("messages").size(), 7u);
  EXPECT_EQ(c.at("current_leaf"), under.at("messages")[0].at("id"));
  md = markdown();
  EXPECT_NE(md.find("\n## User\n\nName a vegetable\n\n## Assistant\n\nLeek\n"), std::string::npos) << md;
  EXPECT_EQ(md.find("Name a fruit"), std::string::npos) << md;

  // JSON export is exactly what GET returns, every branch with its parent.
  EXPECT_EQ(get(one + "/export?format=json").json(), conversation(id));
  // The list shows the current leaf too.
  EXPECT_EQ(search("Branches").at("items")[0].at("current_leaf"), c.at("current_leaf"));
  // Both at once.
  const json both = ok(send("PATCH", one, {{"title", "Renamed"}, {"current_leaf", banana}}));
  EXPECT_EQ(both.at("title"), "Renamed");
  EXPECT_EQ(both.at("current_leaf"), banana);
}

TEST_F(ChatHistory, BadParentsAndLeavesAreRefusedNamingTheField) {
  const std::string id = create({{"messages", {{{"role", "user"}, {"content", "mine"}}}}});
  const std::string other = create({{"messages", {{{"role", "user"}, {"content", "theirs"}}}}});
  const std::string one = std::string(kHistory) + "/" + id;
  const json before = conversation(id);
  const int64_t foreign = conversation(other).at("messages")[0].at("id");
  for (const json& v : {json("1"), json(1.5), json(-3), json(0), json(true), json::array(), json(foreign),
                        json(int64_t{999999999})}) {
    const auto r = send("PATCH", one, {{"current_leaf", v}});
    expect_openai_error(r, 400);
    EXPECT_TRUE(error_names(r, "current_leaf")) << v.dump() << ": " << r.body;
    const auto a = send("POST", one + "/messages", {{"role", "user"}, {"content", "x"}, {"parent", v}});
    expect_openai_error(a, 400);
    EXPECT_TRUE(error_names(a, "parent")) << v.dump() << ": " << a.body;
    const auto b = send("POST", one + "/messages",
                        {{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"parent", v}});
    expect_openai_error(b, 400);
    EXPECT_TRUE(error_names(b, "parent")) << v.dump() << ": " << b.body;
  }
  const auto null_leaf = send("PATCH", one, {{"current_leaf", nullptr}});
  expect_openai_error(null_leaf, 400);
  EXPECT_TRUE(error_names(null_leaf, "current_leaf")) << null_leaf.body;
  // A bad title with a good leaf changes neither.
  const int64_t mine = before.at("messages")[0].at("id");
  const auto bad_title = send("PATCH", one, {{"title", 5}, {"current_leaf", mine}});
  expect_openai_error(bad_title, 400);
  EXPECT_TRUE(error_names(bad_title, "title")) << bad_title.body;
  EXPECT_EQ(conversation(id), before) << "nothing changed";
  // An unknown conversation is still 404.
  const std::string missing = std::string(kHistory) + "/0123456789abcdef0123456789abcdef";
  expect_openai_error(send("PATCH", missing, {{"current_leaf", mine}}), 404);
}

// An answer forked from another at a token (the token inspector): a sibling under the same
// question that says which answer it came from and where it first differs; kept across reads.
TEST_F(ChatHistory, ForkedAnswersKeepWhereTheySplit) {
  const std::string id = create({{"messages", {{{"role", "user"}, {"content", "q"}}}}});
  const std::string one = std::string(kHistory) + "/" + id;
  const int64_t q = conversation(id).at("messages")[0].at("id");
  const auto first = send("POST", one + "/messages", {{"role", "assistant"}, {"content", "a b c"}});
  ASSERT_EQ(first.status, 201) << first.body;
  const int64_t a = first.json().at("messages")[0].at("id");
  EXPECT_TRUE(first.json().at("messages")[0].at("fork").is_null());
  const auto fork =
      send("POST", one + "/messages",
           {{"role", "assistant"}, {"content", "a x y"}, {"parent", q}, {"fork", {{"of", a}, {"at", 1}}}});
  ASSERT_EQ(fork.status, 201) << fork.body;
  const json stored = conversation(id);
  const json& f = stored.at("messages").back();
  EXPECT_EQ(f.at("parent_id"), q);
  EXPECT_EQ(f.at("fork"), (json{{"of", a}, {"at", 1}}));
  EXPECT_EQ(stored.at("current_leaf"), f.at("id"));

  // Bad forks name the field and store nothing.
  const std::string other = create({{"messages", {{{"role", "user"}, {"content", "theirs"}}}}});
  const int64_t foreign = conversation(other).at("messages")[0].at("id");
  const json before = conversation(id);
  for (const json& bad : {json("x"), json::object(), json{{"of", a}}, json{{"of", a}, {"at", -1}},
                          json{{"of", 0}, {"at", 1}}, json{{"of", foreign}, {"at", 1}}}) {
    const auto r = send("POST", one + "/messages",
                        {{"role", "assistant"}, {"content", "z"}, {"parent", q}, {"fork", bad}});
    expect_openai_error(r, 400);
    EXPECT_NE(r.body.find("fork"), std::string::npos) << bad.dump() << ": " << r.body;
  }
  const auto user_fork =
      send("POST", one + "/messages", {{"role", "user"}, {"content", "z"}, {"fork", {{"of", a}, {"at", 0}}}});
  expect_openai_error(user_fork, 400);
  EXPECT_EQ(conversation(id), before) << "nothing stored";
  const auto created =
      send("POST", kHistory,
           {{"messages", {{{"role", "assistant"}, {"content", "z"}, {"fork", {{"of", a}, {"at", 0}}}}}}});
  expect_openai_error(created, 400);
}

// /v1 recording appends after the current leaf: the branch the user switched to.
TEST_F(ChatHistory, RecordingFollowsTheCurrentLeaf) {
  const json question = {{"role", "user"}, {"content", "Hello okapi"}};
  json body = chat_body(json::array({question}));
  body["rmm_conversation_id"] = "new";
  const json first = ok(send("POST", "/v1/chat/completions", body));
  const std::string id = first.at("rmm_conversation_id");
  json c = conversation(id);
  ASSERT_EQ(c.at("messages").size(), 2u) << c.dump();
  const int64_t q = c.at("messages")[0].at("id");
  const int64_t answer = c.at("messages")[1].at("id");
  EXPECT_EQ(c.at("messages")[1].at("parent_id"), q);
  EXPECT_EQ(c.at("current_leaf"), answer);
  // The UI regenerates (stored by itself), then switches back to the first answer.
  ok(send("POST", std::string(kHistory) + "/" + id + "/messages",
          {{"role", "assistant"}, {"content", "another"}, {"parent", q}}),
     201);
  ok(send("PATCH", std::string(kHistory) + "/" + id, {{"current_leaf", answer}}));
  const json said = {{"role", "assistant"}, {"content", c.at("messages")[1].at("content")}};
  json next = chat_body(json::array({question, said, {{"role", "user"}, {"content", "And then?"}}}));
  next["rmm_conversation_id"] = id;
  ok(send("POST", "/v1/chat/completions", next));
  c = conversation(id);
  ASSERT_EQ(c.at("messages").size(), 5u) << c.dump();
  const json& asked = c.at("messages")[3];
  const json& answered = c.at("messages")[4];
  EXPECT_EQ(asked.at("content"), "And then?");
  EXPECT_EQ(asked.at("parent_id"), answer);
  EXPECT_EQ(answered.at("parent_id"), asked.at("id"));
  EXPECT_EQ(c.at("current_leaf"), answered.at("id"));
  const std::string md = get(std::string(kHistory) + "/" + id + "/export?format=markdown").body;
  EXPECT_EQ(md.find("another"), std::string::npos) << md;
  EXPECT_NE(md.find("And then?"), std::string::npos) << md;
}

// Where the database lives: --database > RMM_DATABASE > [serve] database > $RMM_HOME/rmm.db.
TEST(ServerDatabase, LocationFollowsFlagEnvironmentFileDefault) {
  RMM_REQUIRE_SHARED_MODEL(model, kModelFile);
  const auto home = temp_dir("chat-db-home");
  ScopedEnv rmm_home("RMM_HOME", home.string());
  const auto count_in = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args{"--model", model.string(), "--port", "0", "-t", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    ServerProcess s(args);
    const auto created =
        http_request(s.port(), "POST", kHistory, "{}", {{"Content-Type", "application/json"}});
    EXPECT_EQ(created.status, 201) << created.body;
    return http_get(s.port(), kHistory).json().at("total").get<int>();
  };
  EXPECT_EQ(count_in({}), 1);
  EXPECT_TRUE(std::filesystem::exists(home / "rmm.db")) << "the default is $RMM_HOME/rmm.db";
  std::ofstream(home / "config.toml") << "[serve]\ndatabase = \"" << (home / "file.db").string() << "\"\n";
  EXPECT_EQ(count_in({}), 1);
  EXPECT_TRUE(std::filesystem::exists(home / "file.db"));
  {
    ScopedEnv db("RMM_DATABASE", (home / "env.db").string());
    EXPECT_EQ(count_in({}), 1);
    EXPECT_TRUE(std::filesystem::exists(home / "env.db"));
    EXPECT_EQ(count_in({"--database", (home / "flag.db").string()}), 1);
    EXPECT_TRUE(std::filesystem::exists(home / "flag.db"));
    EXPECT_EQ(count_in({}), 2) << "env.db again";
  }
}

TEST(ServerDatabase, AStoreThatCannotOpenStopsTheServerWithAMessage) {
  RMM_REQUIRE_SHARED_MODEL(model, kModelFile);
  const auto dir = temp_dir("chat-db-bad");
  std::ofstream(dir / "not-a-dir") << "x";
  const std::string bad = (dir / "not-a-dir" / "rmm.db").string();
  const auto r = rmm::run_process({rmm_binary().string(), "serve", "--model", model.string(), "--port", "0",
                                   "-t", "1", "--database", bad},
                                  "", 20);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("rmm: cannot open the database", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("listening"), std::string::npos) << r.err;

  const auto pg = rmm::run_process({rmm_binary().string(), "serve", "--model", model.string(), "--port", "0",
                                    "-t", "1", "--database", "postgres://rmm:s3cret@127.0.0.1:1/rmm"},
                                   "", 20);
  EXPECT_EQ(pg.exit_code, 1) << pg.err;
  EXPECT_NE(pg.err.find("cannot open the database"), std::string::npos) << pg.err;
  EXPECT_EQ(pg.err.find("s3cret"), std::string::npos) << "the password stays out of messages: " << pg.err;
}
