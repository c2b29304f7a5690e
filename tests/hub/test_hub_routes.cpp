// The native API's Hub routes on an in-process server, against the fake hub:
// search, a streamed pull (SSE) and a pull of a missing quantization.
#include <gtest/gtest.h>

#include <thread>

#include "hub/fake_hub.hpp"
#include "models/download/http_client.hpp"
#include "server/http_server.hpp"
#include "server/native/hub_routes.hpp"

namespace fs = std::filesystem;

namespace {

class HubRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("RMM_HF_ENDPOINT", hub.endpoint().c_str(), 1);
    setenv("HF_TOKEN", "", 1);
    rmm::server::Router router;
    rmm::server::native::add_hub_routes(router, hub.work() / "models");
    rmm::server::ServerOptions opts;
    opts.port = 0;
    server = std::make_unique<rmm::server::HttpServer>(opts, std::move(router));
    base = "http://127.0.0.1:" + std::to_string(server->listen());
    thread = std::thread([this] { server->run(); });
  }
  void TearDown() override {
    server->stop(std::chrono::milliseconds(200));
    thread.join();
    unsetenv("RMM_HF_ENDPOINT");
  }
  rmm::download::HttpResponse call(const std::string& method, const std::string& path,
                                   const std::string& body = "") {
    rmm::download::HttpRequest r;
    r.method = method;
    r.url = base + path;
    r.body = body;
    if (method == "POST") r.headers.emplace_back("Content-Type", "application/json");
    return rmm::download::http_perform(r);
  }

  rmm::test::FakeHub hub{"routes"};
  std::unique_ptr<rmm::server::HttpServer> server;
  std::thread thread;
  std::string base;
};

}  // namespace

TEST_F(HubRoutes, Search) {
  hub.add_file("acme/tiny-GGUF", "tiny-Q4_K_M.gguf", 100, 1);
  auto r = call("GET", "/api/models/search?q=tiny&limit=5");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"id\":\"acme/tiny-GGUF\""), std::string::npos) << r.body;
  EXPECT_EQ(call("GET", "/api/models/search").status, 400);
}

TEST_F(HubRoutes, PullStreamsProgressThenTheResult) {
  const auto sha = hub.add_file("acme/tiny-GGUF", "tiny-Q4_K_M.gguf", 200000, 1);
  auto r = call("POST", "/api/models/pull", R"({"model": "acme/tiny-GGUF"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("data: {\"bytes_to_fetch\":200000"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"type\":\"pull_progress\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"type\":\"pull_complete\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(sha), std::string::npos);
  EXPECT_TRUE(fs::exists(hub.work() / "models/acme/tiny-GGUF/tiny-Q4_K_M.gguf"));
}

TEST_F(HubRoutes, PullErrors) {
  hub.add_file("acme/tiny-GGUF", "tiny-Q8_0.gguf", 100, 1);
  hub.add_file("acme/tiny-GGUF", "tiny-F16.gguf", 100, 2);
  auto r = call("POST", "/api/models/pull", R"({"model": "acme/tiny-GGUF", "stream": false})");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.body.find("it has: F16, Q8_0"), std::string::npos) << r.body;
  r = call("POST", "/api/models/pull", R"({"model": "../etc/passwd"})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = call("POST", "/api/models/pull", R"({"model": "acme/tiny-GGUF:Q4_K_M"})");  // streamed: an error event
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"error\""), std::string::npos) << r.body;
}
