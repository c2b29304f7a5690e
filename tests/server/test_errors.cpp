// Bad requests get OpenAI's error shape with the right status, and the field
// at fault named in `param` or in the message.
#include <regex>

#include "server_fixture.hpp"

using namespace rmm::test;
using nlohmann::json;

namespace {

class ServerErrors : public ServerSuite {
 protected:
  static HttpResponse post_raw(const std::string& target, const std::string& body,
                               const std::string& content_type = "application/json") {
    return http_request(port(), "POST", target, body, {{"Content-Type", content_type}});
  }
};

constexpr const char* kEndpoints[] = {"/v1/completions", "/v1/chat/completions"};

json minimal(const std::string& endpoint) {
  if (endpoint == "/v1/completions") return {{"model", kModelId}, {"prompt", "Once"}, {"max_tokens", 2}};
  return {{"model", kModelId}, {"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 2}};
}

TEST_F(ServerErrors, MinimalRequestsAreAccepted) {
  // The base of every case below is valid: the error comes from the one change.
  for (const std::string endpoint : kEndpoints) {
    EXPECT_EQ(http_post_json(port(), endpoint, minimal(endpoint)).status, 200) << endpoint;
  }
}

TEST_F(ServerErrors, MalformedJsonIs400) {
  for (const std::string endpoint : kEndpoints) {
    for (const std::string body :
         {R"({"model": "stories260K", "prompt": )", "not json", "", "[1, 2", "{} {}"}) {
      SCOPED_TRACE(endpoint + " body: " + body);
      expect_openai_error(post_raw(endpoint, body), 400);
    }
  }
}

TEST_F(ServerErrors, BodyThatIsNotAnObjectIs400) {
  for (const std::string endpoint : kEndpoints) {
    for (const std::string body : {"[]", "42", "\"prompt\"", "null"}) {
      SCOPED_TRACE(endpoint + " body: " + body);
      expect_openai_error(post_raw(endpoint, body), 400);
    }
  }
}

TEST_F(ServerErrors, WrongContentTypeIs415Or400) {
  for (const std::string endpoint : kEndpoints) {
    for (const std::string type : {"text/plain", "application/x-www-form-urlencoded"}) {
      auto r = post_raw(endpoint, minimal(endpoint).dump(), type);
      SCOPED_TRACE(endpoint + " Content-Type: " + type);
      EXPECT_TRUE(r.status == 415 || r.status == 400) << r.status << " " << r.body;
      expect_openai_error(r, r.status);
    }
  }
  // A charset parameter is still JSON.
  EXPECT_EQ(post_raw("/v1/completions", minimal("/v1/completions").dump(), "application/json; charset=utf-8")
                .status,
            200);
}

TEST_F(ServerErrors, BodyOverMaxBodyIs413) {
  json body = minimal("/v1/completions");
  body["prompt"] = std::string(kMaxBody + 4096, 'a');
  expect_openai_error(post_raw("/v1/completions", body.dump()), 413);
  // Just under the limit is read (and then refused for its length in tokens, not its size).
  body["prompt"] = std::string(kMaxBody - 200, 'a');
  EXPECT_NE(post_raw("/v1/completions", body.dump()).status, 413);
  EXPECT_EQ(http_get(port(), "/health").status, 200);
}

TEST_F(ServerErrors, UnknownModelIs404) {
  for (const std::string endpoint : kEndpoints) {
    json body = minimal(endpoint);
    body["model"] = "gpt-4o";
    auto r = http_post_json(port(), endpoint, body);
    SCOPED_TRACE(endpoint);
    expect_openai_error(r, 404);
    EXPECT_NE(r.body.find("gpt-4o"), std::string::npos)
        << "the message should name the model asked for: " << r.body;
  }
}

TEST_F(ServerErrors, PromptLongerThanTheContextIs400NamingBothLengths) {
  std::string words;
  for (int i = 0; i < 3000; ++i) words += i ? " the" : "the";  // one token per word
  for (const std::string endpoint : kEndpoints) {
    json body = minimal(endpoint);
    if (endpoint == "/v1/completions") {
      body["prompt"] = words;
    } else {
      body["messages"][0]["content"] = words;
    }
    auto r = http_post_json(port(), endpoint, body);
    SCOPED_TRACE(endpoint);
    expect_openai_error(r, 400);
    // The prompt's length (over 3000 tokens) and the context's (2048 for the
    // server, or 512 for each of its 4 sequences).
    const std::string message =
        json::parse(r.body, nullptr, false).value(json::json_pointer("/error/message"), "");
    bool prompt_len = false, ctx_len = false;
    const std::regex number("[0-9]+");
    for (auto it = std::sregex_iterator(message.begin(), message.end(), number); it != std::sregex_iterator();
         ++it) {
      const long v = std::stol(it->str());
      prompt_len |= v >= 3000 && v <= 3100;
      ctx_len |= v == 2048 || v == 512;
    }
    EXPECT_TRUE(prompt_len && ctx_len) << "message: " << message;
  }
}

struct BadValue {
  const char* endpoint;
  const char* field;  // what the error must name
  json patch;         // merged into the minimal request
};

TEST_F(ServerErrors, InvalidValuesAre400NamingTheField) {
  const std::vector<BadValue> cases = {
      {"/v1/completions", "temperature", {{"temperature", -0.5}}},
      {"/v1/completions", "temperature", {{"temperature", "hot"}}},
      {"/v1/chat/completions", "temperature", {{"temperature", -1}}},
      {"/v1/completions", "max_tokens", {{"max_tokens", -5}}},
      {"/v1/completions", "max_tokens", {{"max_tokens", "ten"}}},
      {"/v1/chat/completions", "max_tokens", {{"max_tokens", -2}}},
      {"/v1/chat/completions", "max_completion_tokens", {{"max_completion_tokens", -3}}},
      {"/v1/chat/completions", "top_logprobs", {{"logprobs", true}, {"top_logprobs", 21}}},
      {"/v1/chat/completions", "top_logprobs", {{"logprobs", true}, {"top_logprobs", -1}}},
      {"/v1/completions", "logprobs", {{"logprobs", 6}}},
      {"/v1/completions", "n", {{"n", 2}}},
      {"/v1/chat/completions", "n", {{"n", 2}}},
      {"/v1/completions", "n", {{"n", 0}}},
      {"/v1/completions", "stop", {{"stop", {"a", "b", "c", "d", "e"}}}},
      {"/v1/chat/completions", "stop", {{"stop", {"a", "b", "c", "d", "e"}}}},
      {"/v1/completions", "stop", {{"stop", 7}}},
      {"/v1/completions", "logit_bias", {{"logit_bias", {{"5", 101}}}}},
      {"/v1/completions", "logit_bias", {{"logit_bias", {{"five", 1}}}}},
      {"/v1/completions",
       "logit_bias",
       {{"logit_bias", {{"999999", 1}}}}},  // not in the 512-token vocabulary
      {"/v1/completions", "top_p", {{"top_p", 1.5}}},
      {"/v1/completions", "min_p", {{"min_p", 1.5}}},
      {"/v1/completions", "seed", {{"seed", "abc"}}},
      {"/v1/completions", "seed", {{"seed", 1.5}}},
      {"/v1/completions", "stream", {{"stream", "yes"}}},
      {"/v1/chat/completions", "logprobs", {{"logprobs", 3}}},
      {"/v1/chat/completions", "content", {{"messages", {{{"role", "user"}, {"content", 42}}}}}},
      {"/v1/chat/completions",
       "type",
       {{"messages",
         {{{"role", "user"},
           {"content", {{{"type", "image_url"}, {"image_url", {{"url", "http://x/y.png"}}}}}}}}}}},
      {"/v1/completions", "frequency_penalty", {{"frequency_penalty", 3}}},
      {"/v1/completions", "presence_penalty", {{"presence_penalty", -2.5}}},
      {"/v1/completions", "prompt", {{"prompt", 42}}},
      {"/v1/completions", "prompt", {{"prompt", {"one", "two"}}}},  // only one prompt per request
      {"/v1/chat/completions", "messages", {{"messages", json::array()}}},
      {"/v1/chat/completions", "messages", {{"messages", "Hi"}}},
      {"/v1/chat/completions", "role", {{"messages", {{{"role", "wizard"}, {"content", "Hi"}}}}}},
      {"/v1/chat/completions", "response_format", {{"response_format", {{"type", "yaml"}}}}},
      {"/v1/chat/completions",
       "response_format",
       {{"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", 5}}}}}}},
      {"/v1/completions", "stream_options", {{"stream_options", "yes"}}},
      // The model has no template, and chatml cannot show tools to it: an error, not a silent drop.
      {"/v1/chat/completions",
       "tools",
       {{"tools",
         {{{"type", "function"},
           {"function",
            {{"name", "f"}, {"parameters", {{"type", "object"}, {"properties", json::object()}}}}}}}}}},
  };
  for (const auto& bad : cases) {
    json body = minimal(bad.endpoint);
    body.merge_patch(bad.patch);
    auto r = http_post_json(port(), bad.endpoint, body);
    SCOPED_TRACE(std::string(bad.endpoint) + " " + bad.patch.dump());
    expect_openai_error(r, 400);
    EXPECT_TRUE(error_names(r, bad.field)) << "the error should name '" << bad.field << "': " << r.body;
  }
}

TEST_F(ServerErrors, NanIsNotJsonAnd400) {
  // JSON has no NaN; a request spelling it is malformed (or an invalid temperature).
  for (const std::string t : {"NaN", "nan", "Infinity"}) {
    auto r =
        post_raw("/v1/completions", R"({"model":"stories260K","prompt":"Once","temperature":)" + t + "}");
    SCOPED_TRACE(t);
    expect_openai_error(r, 400);
  }
  // 1e400 does not fit a double.
  auto r = post_raw("/v1/completions", R"({"model":"stories260K","prompt":"Once","temperature":1e400})");
  expect_openai_error(r, 400);
}

TEST_F(ServerErrors, InvalidUtf8Is400) {
  for (const std::string endpoint : kEndpoints) {
    const std::string bad = "Hi \xff\xfe there \xc3";
    const std::string body =
        endpoint == "/v1/completions"
            ? R"({"model":"stories260K","max_tokens":2,"prompt":")" + bad + "\"}"
            : R"({"model":"stories260K","max_tokens":2,"messages":[{"role":"user","content":")" + bad +
                  "\"}]}";
    SCOPED_TRACE(endpoint);
    expect_openai_error(post_raw(endpoint, body), 400);
  }
}

TEST_F(ServerErrors, ServerStillAnswersAfterErrors) {
  post_raw("/v1/completions", "{");
  post_raw("/v1/completions", std::string(kMaxBody + 10, ' '));
  auto j = completion({{"prompt", "Once upon a time"}, {"max_tokens", 3}, {"temperature", 0}});
  EXPECT_EQ(j["choices"][0]["text"], cli_greedy(model(), "Once upon a time", 3));
}

}  // namespace
