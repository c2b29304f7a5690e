// Health, the model list and routing.
#include "server_fixture.hpp"

using namespace rmm::test;

namespace {

class ServerBasic : public ServerSuite {};

TEST_F(ServerBasic, HealthIsOkWhenReady) {
  for (const char* path : {"/health", "/api/system/health"}) {
    auto r = http_get(port(), path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    EXPECT_NE(r.header("Content-Type").find("application/json"), std::string::npos) << path;
    EXPECT_EQ(r.json().value("status", ""), "ok") << path << ": " << r.body;
  }
}

TEST_F(ServerBasic, ListeningLineNamesTheHostAsked) { EXPECT_EQ(server().host(), "127.0.0.1"); }

TEST_F(ServerBasic, ModelsListsTheLoadedModelByFileStem) {
  auto r = http_get(port(), "/v1/models");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.header("Content-Type").find("application/json"), std::string::npos);
  auto j = r.json();
  EXPECT_EQ(j.at("object"), "list");
  ASSERT_EQ(j.at("data").size(), 1u) << j.dump();
  const auto& m = j["data"][0];
  EXPECT_EQ(m.at("id"), kModelId);
  EXPECT_EQ(m.at("object"), "model");
  EXPECT_TRUE(m.at("created").is_number_integer()) << m.dump();
  EXPECT_GE(m.at("created").get<int64_t>(), 0);
  EXPECT_EQ(m.at("owned_by"), "rmm");
}

TEST_F(ServerBasic, UnknownPathIs404) {
  for (const char* path : {"/v1/nothing", "/v1/models/extra/deep"}) {
    auto r = http_get(port(), path);
    EXPECT_EQ(r.status, 404) << path << ": " << r.body;
  }
  expect_openai_error(http_post_json(port(), "/v1/complete", {{"model", kModelId}, {"prompt", "x"}}), 404);
}

TEST_F(ServerBasic, OllamaRoutesSayWhatThisServerSpeaks) {
  for (const char* path : {"/api/tags", "/api/version"}) {
    const auto r = http_get(port(), path);
    expect_openai_error(r, 404);
    EXPECT_NE(r.body.find("OpenAI API at /v1"), std::string::npos) << path << ": " << r.body;
  }
  for (const char* path : {"/api/chat", "/api/generate"}) {
    const auto r = http_post_json(port(), path, {{"model", kModelId}});
    expect_openai_error(r, 404);
    EXPECT_NE(r.body.find("Ollama"), std::string::npos) << path << ": " << r.body;
  }
}

TEST_F(ServerBasic, BrowsersMayReadRmmHeaders) {
  const auto r = http_request(port(), "GET", "/v1/models", "", {{"Origin", "http://localhost:3000"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "http://localhost:3000");
  const std::string exposed = r.header("Access-Control-Expose-Headers");
  for (const char* h : {"X-RMM-Cache", "X-RMM-Conversation", "Retry-After", "x-ratelimit-remaining-requests"})
    EXPECT_NE(exposed.find(h), std::string::npos) << h << " in " << exposed;
}

TEST_F(ServerBasic, WrongMethodIs405WithAllow) {
  struct Case {
    const char* method;
    const char* path;
  };
  for (const Case c : {Case{"GET", "/v1/completions"}, Case{"GET", "/v1/chat/completions"},
                       Case{"POST", "/v1/models"}, Case{"DELETE", "/health"}}) {
    auto r = http_request(port(), c.method, c.path, c.method == std::string("POST") ? "{}" : "",
                          {{"Content-Type", "application/json"}});
    SCOPED_TRACE(std::string(c.method) + " " + c.path);
    expect_openai_error(r, 405);
    EXPECT_TRUE(r.has_header("Allow")) << "RFC 9110 15.5.6: a 405 response must list the allowed methods";
  }
}

TEST_F(ServerBasic, KeepsServingAfterAGarbageRequest) {
  {
    HttpConnection conn(port());
    conn.send_raw("THIS IS NOT HTTP\r\n\r\n");
    conn.wait_closed(std::chrono::seconds(5));
  }
  EXPECT_EQ(http_get(port(), "/health").status, 200);
}

TEST_F(ServerBasic, KeepAliveServesSeveralRequestsOnOneConnection) {
  // HTTP/1.1 connections persist by default; the OpenAI SDKs reuse them.
  HttpConnection conn(port());
  for (int i = 0; i < 3; ++i) {
    conn.send_request("GET", "/health", "", {}, /*keep_alive=*/true);
    auto r = conn.read_head();
    r.body = conn.read_body();
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.body;
    EXPECT_EQ(r.json().value("status", ""), "ok");
  }
  const nlohmann::json body = {
      {"model", kModelId}, {"prompt", "Once upon a time"}, {"max_tokens", 3}, {"temperature", 0}};
  for (int i = 0; i < 2; ++i) {
    conn.send_request("POST", "/v1/completions", body.dump(), {{"Content-Type", "application/json"}}, true);
    auto r = conn.read_head();
    r.body = conn.read_body();
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["choices"][0]["text"], cli_greedy(model(), "Once upon a time", 3));
  }
}

}  // namespace
