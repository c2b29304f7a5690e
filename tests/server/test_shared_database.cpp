// Two `rmm serve` instances on one PostgreSQL database (the shared
// deployment): templates, chat history and the response cache written through
// one are read through the other. The database is a fresh schema in the
// throwaway server that scripts/pg-test.sh starts for the store tests.
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "server_fixture.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"
#include "test_location.hpp"

using namespace rmm::test;
using json = nlohmann::json;

namespace {

HttpResponse send(int port, const std::string& method, const std::string& target, const json& body,
                  Headers headers = {}) {
  headers.emplace_back("Content-Type", "application/json");
  return http_request(port, method, target, body.dump(), headers);
}

json ok(const HttpResponse& r, int status = 200) {
  EXPECT_EQ(r.status, status) << r.body;
  return r.body.empty() ? json() : r.json();
}

}  // namespace

TEST(SharedDatabase, TwoServersShareTemplatesChatsAndTheCache) {
  RMM_REQUIRE_SHARED_MODEL(model, kModelFile);
  auto db = rmm::store::test::TestLocation::make("postgres");
  ServerProcess a(serve_args(model, {"--database", db->location()}));
  ServerProcess b(serve_args(model, {"--database", db->location()}));

  // A template saved on one server is read, and versioned, on the other.
  const json tmpl = {{"name", "Shared greeting"},
                     {"blocks", {{{"type", "system"}, {"text", "Greet {{who}}."}}}},
                     {"variables", {{{"name", "who"}, {"type", "text"}, {"default", "Lily"}}}}};
  const std::string id = ok(send(a.port(), "POST", "/api/prompts/templates", tmpl), 201).at("id");
  const json seen = ok(http_get(b.port(), "/api/prompts/templates/" + id));
  EXPECT_EQ(seen.at("name"), "Shared greeting");
  json v2 = seen;
  v2["description"] = "edited on the second server";
  EXPECT_EQ(ok(send(b.port(), "PUT", "/api/prompts/templates/" + id, v2)).at("version"), 2);
  EXPECT_EQ(ok(http_get(a.port(), "/api/prompts/templates/" + id + "/versions")).size(), 2u);

  // A conversation started on one server continues on the other.
  const json first = {{"model", kModelId},
                      {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                      {"max_tokens", 6},
                      {"temperature", 0},
                      {"rmm_conversation_id", "new"}};
  const auto r1 = send(a.port(), "POST", "/v1/chat/completions", first);
  const json answer = ok(r1);
  const std::string conv = r1.header("X-RMM-Conversation");
  ASSERT_FALSE(conv.empty()) << r1.body;
  json second = first;
  second["rmm_conversation_id"] = conv;
  second["messages"].push_back(answer["choices"][0]["message"]);
  second["messages"].push_back({{"role", "user"}, {"content", "And then?"}});
  ok(send(b.port(), "POST", "/v1/chat/completions", second));
  const json stored = ok(http_get(a.port(), "/api/chat/history/" + conv));
  ASSERT_EQ(stored.at("messages").size(), 4u) << stored.dump();
  EXPECT_EQ(stored["messages"][3]["role"], "assistant");

  // The cache is shared too: the same greedy request on the other server is a hit with the same answer.
  const json plain = {{"model", kModelId},
                      {"prompt", "Once upon a time"},
                      {"max_tokens", 12},
                      {"temperature", 0},
                      {"logprobs", 2}};
  // Both servers hash the model in the background after loading; until then requests bypass the cache.
  HttpResponse miss, hit;
  for (int i = 0; i < 100; ++i) {
    miss = send(a.port(), "POST", "/v1/completions", plain);
    if (miss.header("X-RMM-Cache") != "bypass") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (int i = 0; i < 100; ++i) {
    hit = send(b.port(), "POST", "/v1/completions", plain);
    if (hit.header("X-RMM-Cache") == "hit") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(hit.header("X-RMM-Cache"), "hit") << hit.body;
  EXPECT_EQ(ok(hit)["choices"], ok(miss)["choices"]);
}
