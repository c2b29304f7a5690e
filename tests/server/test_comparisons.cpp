// Saved Prompt Architect comparisons over real HTTP (/api/prompts/comparisons):
// the round trip of a record and its exact shape, paging, validation errors
// that name their field, bodies past the limit (8 MiB less 64 KiB), and
// owners (keys see their own, an admin key sees all, a read key saves nothing). A server of its own with
// a fresh database and no models: these routes never generate.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/subprocess.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

namespace rmm::test {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kBase = "/api/prompts/comparisons";
// The largest body kept: 8 MiB less 64 KiB (the record around it must fit
// the 8 MiB the server queues for one response).
constexpr size_t kMaxBody = (size_t{8} << 20) - (size_t{64} << 10);

Headers bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

json sample_body() {
  return {{"template", {{"id", "summarize"}, {"version", 2}}},
          {"models", {"a:q4", "b:q8"}},
          {"results",
           {{{"model", "a:q4"}, {"answer", "Hi"}, {"tokens_per_second", 41.5}, {"ttft_ms", 120}},
            {{"model", "b:q8"}, {"answer", "Hello"}, {"tokens_per_second", 22.25}, {"ttft_ms", 300}}}}};
}

class Comparisons : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("comparisons");
    fs::create_directories(dir_ / "models");
    db_ = (dir_ / "rmm.db").string();
  }
  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "server output:\n" << server_->output() << "\n";
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // The default --max-body (8 MiB): a body past the comparisons' own limit still fits in a request.
  void start() {
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--host", "127.0.0.1", "--port", "0", "-t", "1", "--models-dir",
                                 (dir_ / "models").string(), "--no-cache", "--database", db_});
  }
  // `rmm keys create NAME --scope SCOPE` on the server's database; returns the key.
  std::string create_key(const std::string& name, const std::string& scope) {
    const auto r =
        run_process({rmm_binary().string(), "keys", "create", name, "--scope", scope, "--database", db_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string key = r.out;
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    return key;
  }
  HttpResponse call(const std::string& method, const std::string& target, const std::string& body = "",
                    Headers headers = {}) {
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    return http_request(server_->port(), method, target, body, headers);
  }
  HttpResponse send(const std::string& method, const std::string& target, const json& body,
                    const Headers& headers = {}) {
    return call(method, target, body.dump(), headers);
  }
  json ok(const HttpResponse& r, int status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    return r.json();
  }
  // A 400 (or `status`) whose param names `field` ("": null, the body as a whole).
  void expect_error(const HttpResponse& r, const std::string& field, int status = 400) {
    EXPECT_EQ(r.status, status) << r.body;
    const json e = r.json().at("error");
    const json param = e.value("param", json());  // null when the body as a whole is at fault
    EXPECT_EQ(param.is_null() ? "" : param.get<std::string>(), field) << r.body;
    EXPECT_FALSE(e.value("message", "").empty()) << r.body;
  }
  std::string create(const json& body, const Headers& headers = {}) {
    return ok(send("POST", kBase, body, headers), 201).at("id");
  }
  int total(const Headers& headers = {}) { return ok(call("GET", kBase, "", headers)).at("total"); }

  fs::path dir_;
  std::string db_;
  std::unique_ptr<ServerProcess> server_;
};

json keys_of(const json& object) {
  json out = json::array();
  for (const auto& [k, v] : object.items()) out.push_back(k);
  return out;
}

TEST_F(Comparisons, RoundTripInItsExactShape) {
  start();
  const json made = ok(send("POST", kBase,
                            {{"title", "Two models"},
                             {"kind", "models"},
                             {"template_id", "summarize"},
                             {"body", sample_body()}}),
                       201);
  // The record, keys in this order.
  const json order = {"id", "title", "kind", "template_id", "created_at", "updated_at", "body"};
  const std::string id = made.at("id");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(made.at("title"), "Two models");
  EXPECT_EQ(made.at("kind"), "models");
  EXPECT_EQ(made.at("template_id"), "summarize");
  EXPECT_GT(made.at("created_at").get<int64_t>(), 0);
  EXPECT_EQ(made.at("updated_at"), made.at("created_at"));
  EXPECT_EQ(made.at("body"), sample_body());
  const auto raw = call("GET", std::string(kBase) + "/" + id);
  EXPECT_EQ(raw.header("Content-Type").rfind("application/json", 0), 0u) << raw.header("Content-Type");
  const auto got = nlohmann::ordered_json::parse(raw.body);
  json got_keys = json::array();
  for (const auto& [k, v] : got.items()) got_keys.push_back(k);
  EXPECT_EQ(got_keys, order) << raw.body;
  EXPECT_EQ(json::parse(raw.body), made);

  // Listed without its body.
  const json list = ok(call("GET", kBase));
  EXPECT_EQ(list.at("total"), 1);
  EXPECT_EQ(list.at("limit"), 50);
  EXPECT_EQ(list.at("offset"), 0);
  ASSERT_EQ(list.at("items").size(), 1u);
  const json summary = list.at("items")[0];
  EXPECT_EQ(
      keys_of(summary),
      keys_of(json{
          {"id", 0}, {"title", 0}, {"kind", 0}, {"template_id", 0}, {"created_at", 0}, {"updated_at", 0}}));
  EXPECT_EQ(summary.at("id"), id);

  // Title and body change; kind, template and creation stay.
  const std::string at = std::string(kBase) + "/" + id;
  const json renamed = ok(send("PATCH", at, {{"title", "Renamed"}}));
  EXPECT_EQ(renamed.at("title"), "Renamed");
  EXPECT_EQ(renamed.at("body"), sample_body());
  EXPECT_GE(renamed.at("updated_at").get<int64_t>(), made.at("created_at").get<int64_t>());
  const json rerun = {{"results", json::array()}, {"note", "ünïcode ✓"}};
  const json updated = ok(send("PATCH", at, {{"body", rerun}, {"kind", "ignored"}}));
  EXPECT_EQ(updated.at("title"), "Renamed");
  EXPECT_EQ(updated.at("kind"), "models");
  EXPECT_EQ(updated.at("template_id"), "summarize");
  EXPECT_EQ(updated.at("created_at"), made.at("created_at"));
  EXPECT_EQ(updated.at("body"), rerun);
  EXPECT_EQ(ok(call("GET", at)), updated);

  // A versions comparison without a template id or title.
  const json versions = ok(send("POST", kBase, {{"kind", "versions"}, {"body", json::object()}}), 201);
  EXPECT_EQ(versions.at("title"), "");
  EXPECT_EQ(versions.at("template_id"), "");
  EXPECT_EQ(versions.at("body"), json::object());
  EXPECT_EQ(total(), 2);

  // Deleted: gone everywhere.
  EXPECT_EQ(ok(call("DELETE", at)), (json{{"id", id}, {"deleted", true}}));
  expect_error(call("GET", at), "id", 404);
  expect_error(call("DELETE", at), "id", 404);
  expect_error(send("PATCH", at, {{"title", "x"}}), "id", 404);
  EXPECT_EQ(total(), 1);
  // Ids that are not ids, and paths past the record.
  expect_error(call("GET", std::string(kBase) + "/nope"), "id", 404);
  expect_error(call("GET", std::string(kBase) + "/%ff%fe"), "id", 404);
  EXPECT_EQ(call("GET", at + "/more").status, 404);
  // The template routes beside them still answer.
  EXPECT_EQ(call("GET", "/api/prompts/templates").status, 200);
}

TEST_F(Comparisons, ListsNewestFirstInPages) {
  start();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    std::string title(1, 'c');  // built in two steps: GCC 12 warns (-Wrestrict) on "c" + to_string
    title += std::to_string(i);
    ids.push_back(create({{"title", title}, {"kind", "models"}, {"body", {{"n", i}}}}));
  }
  const json page = ok(call("GET", std::string(kBase) + "?limit=2&offset=1"));
  EXPECT_EQ(page.at("total"), 5);
  EXPECT_EQ(page.at("limit"), 2);
  EXPECT_EQ(page.at("offset"), 1);
  ASSERT_EQ(page.at("items").size(), 2u);
  EXPECT_EQ(page.at("items")[0].at("id"), ids[3]);
  EXPECT_EQ(page.at("items")[1].at("id"), ids[2]);
  const json last = ok(call("GET", std::string(kBase) + "?limit=200&offset=4"));
  ASSERT_EQ(last.at("items").size(), 1u);
  EXPECT_EQ(last.at("items")[0].at("title"), "c0");
  EXPECT_TRUE(ok(call("GET", std::string(kBase) + "?offset=5")).at("items").empty());
  for (const char* q : {"?limit=0", "?limit=201", "?limit=abc", "?limit="})
    expect_error(call("GET", std::string(kBase) + q), "limit");
  expect_error(call("GET", std::string(kBase) + "?offset=-1"), "offset");
}

TEST_F(Comparisons, ValidationErrorsNameTheField) {
  start();
  const json body = sample_body();
  expect_error(send("POST", kBase, {{"body", body}}), "kind");
  expect_error(send("POST", kBase, {{"kind", "tables"}, {"body", body}}), "kind");
  expect_error(send("POST", kBase, {{"kind", 3}, {"body", body}}), "kind");
  expect_error(send("POST", kBase, {{"kind", "models"}}), "body");
  expect_error(send("POST", kBase, {{"kind", "models"}, {"body", {1, 2}}}), "body");
  expect_error(send("POST", kBase, {{"kind", "models"}, {"body", "text"}}), "body");
  expect_error(send("POST", kBase, {{"kind", "models"}, {"body", body}, {"title", 5}}), "title");
  expect_error(send("POST", kBase, {{"kind", "models"}, {"body", body}, {"title", std::string(201, 't')}}),
               "title");
  EXPECT_EQ(
      send("POST", kBase, {{"kind", "models"}, {"body", body}, {"title", std::string(200, 't')}}).status,
      201);
  expect_error(send("POST", kBase, {{"kind", "models"}, {"body", body}, {"template_id", "Not An Id"}}),
               "template_id");
  expect_error(send("POST", kBase, {{"kind", "models"}, {"body", body}, {"template_id", 7}}), "template_id");
  expect_error(call("POST", kBase, "{not json"), "");
  expect_error(call("POST", kBase, "[1]"), "");
  EXPECT_EQ(http_request(server_->port(), "POST", kBase, json{{"kind", "models"}, {"body", body}}.dump(),
                         {{"Content-Type", "text/plain"}})
                .status,
            415);
  // Nested past the limit: refused before it is parsed.
  std::string deep = R"({"kind":"models","body":)";
  for (int i = 0; i < 80; ++i) deep += "[";
  for (int i = 0; i < 80; ++i) deep += "]";
  deep += "}";
  expect_error(call("POST", kBase, deep), "");

  const std::string id = create({{"kind", "models"}, {"body", body}});
  const std::string at = std::string(kBase) + "/" + id;
  expect_error(send("PATCH", at, json::object()), "body");
  expect_error(send("PATCH", at, {{"title", nullptr}, {"body", nullptr}}), "body");
  expect_error(send("PATCH", at, {{"title", std::string(201, 't')}}), "title");
  expect_error(send("PATCH", at, {{"body", {1}}}), "body");
  // Nothing refused was kept, and the one record is unchanged.
  EXPECT_EQ(total(), 2);
  EXPECT_EQ(ok(call("GET", at)).at("body"), body);
}

TEST_F(Comparisons, BodiesPastTheLimitAreRefused) {
  start();
  // {"x":"yyy..."}: exactly the largest body kept, then one byte more.
  const std::string pad = R"({"x":")";
  const std::string fill(kMaxBody - pad.size() - 2, 'y');
  const json largest = {{"x", fill}};
  ASSERT_EQ(largest.dump().size(), kMaxBody);
  const auto kept = send("POST", kBase, {{"kind", "models"}, {"body", largest}});
  ASSERT_EQ(kept.status, 201) << kept.body.substr(0, 300);
  const std::string id = kept.json().at("id");
  EXPECT_EQ(ok(call("GET", std::string(kBase) + "/" + id)).at("body"), largest);
  const json over = {{"x", fill + "y"}};
  const auto refused = send("POST", kBase, {{"kind", "models"}, {"body", over}});
  expect_error(refused, "body", 413);
  expect_error(send("PATCH", std::string(kBase) + "/" + id, {{"body", over}}), "body", 413);
  EXPECT_EQ(total(), 1);
  EXPECT_EQ(ok(call("GET", std::string(kBase) + "/" + id)).at("body"), largest);
}

TEST_F(Comparisons, EachKeySeesItsOwnAndAnAdminKeySeesAll) {
  const std::string admin = create_key("ops", "admin");
  const std::string alice = create_key("alice", "generate");
  const std::string bob = create_key("bob", "generate");
  const std::string reader = create_key("reader", "read");
  start();
  const json body = {{"kind", "models"}, {"body", sample_body()}};
  const std::string a = create(body, bearer(alice));
  const std::string b = create(body, bearer(bob));
  const std::string o = create(body, bearer(admin));
  EXPECT_EQ(total(bearer(alice)), 1);
  EXPECT_EQ(total(bearer(bob)), 1);
  EXPECT_EQ(total(bearer(admin)), 3);
  EXPECT_EQ(ok(call("GET", kBase, "", bearer(alice))).at("items")[0].at("id"), a);
  // Another key's record is not found, for every method.
  const std::string at_a = std::string(kBase) + "/" + a;
  expect_error(call("GET", at_a, "", bearer(bob)), "id", 404);
  expect_error(send("PATCH", at_a, {{"title", "bob was here"}}, bearer(bob)), "id", 404);
  expect_error(call("DELETE", at_a, "", bearer(bob)), "id", 404);
  expect_error(call("GET", std::string(kBase) + "/" + o, "", bearer(alice)), "id", 404);
  EXPECT_EQ(ok(call("GET", at_a, "", bearer(alice))).at("title"), "");
  // The admin key reads, changes and deletes anyone's.
  EXPECT_EQ(ok(send("PATCH", at_a, {{"title", "checked"}}, bearer(admin))).at("title"), "checked");
  EXPECT_EQ(ok(call("GET", at_a, "", bearer(alice))).at("title"), "checked");
  EXPECT_EQ(call("DELETE", std::string(kBase) + "/" + b, "", bearer(admin)).status, 200);
  EXPECT_EQ(total(bearer(bob)), 0);
  // A read key lists (its own: none) but saves, changes and deletes nothing; no key is a 401.
  EXPECT_EQ(total(bearer(reader)), 0);
  EXPECT_EQ(send("POST", kBase, body, bearer(reader)).status, 403);
  EXPECT_EQ(send("PATCH", at_a, {{"title", "x"}}, bearer(reader)).status, 403);
  EXPECT_EQ(call("DELETE", at_a, "", bearer(reader)).status, 403);
  EXPECT_EQ(call("GET", kBase).status, 401);
  EXPECT_EQ(total(bearer(admin)), 2);
}

}  // namespace
}  // namespace rmm::test
