// The web UI as rmm serve hands it out: every file of the npm build (read
// from the build folder, not from the server) comes back byte for byte,
// gzipped for browsers and plain for clients that take no gzip, with ETags,
// caching and a strict Content-Security-Policy; --no-webui leaves the APIs.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "server_fixture.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

namespace rmm::test {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string gunzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
  std::string out;
  char buf[65536];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  EXPECT_EQ(rc, Z_STREAM_END) << "not a whole gzip stream";
  return out;
}

// The files the npm build wrote, as "/path" -> contents.
std::map<std::string, std::string> built_files() {
  std::map<std::string, std::string> out;
  const fs::path dist = RMM_WEB_DIST_DIR;
  if (!fs::is_directory(dist)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dist)) {
    if (!e.is_regular_file()) continue;
    std::string key(1, '/');
    key.append(fs::relative(e.path(), dist).generic_string());
    out[key] = read_file(e.path());
  }
  return out;
}

class WebUi : public ServerSuite {
 protected:
  void SetUp() override {
    ServerSuite::SetUp();
    files_ = built_files();
    if (files_.empty())
      GTEST_SKIP() << "no web UI build in " << RMM_WEB_DIST_DIR << " (Node.js missing at build time)";
  }
  std::map<std::string, std::string> files_;
};

TEST_F(WebUi, EveryBuiltFileIsServedAsBuiltGzippedWithCachingAndAStrictPolicy) {
  ASSERT_TRUE(files_.count("/index.html"));
  for (const auto& [path, contents] : files_) {
    SCOPED_TRACE(path);
    const auto r = http_request(port(), "GET", path, "", {{"Accept-Encoding", "gzip, deflate, br"}});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Encoding"), "gzip");
    EXPECT_EQ(gunzip(r.body), contents);
    EXPECT_FALSE(r.header("ETag").empty());
    EXPECT_EQ(r.header("Vary"), "Accept-Encoding");
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
    const std::string csp = r.header("Content-Security-Policy");
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
    // Vite names assets by content: cached for good. The page itself is revalidated.
    if (path.starts_with("/assets/"))
      EXPECT_EQ(r.header("Cache-Control"), "public, max-age=31536000, immutable");
    else
      EXPECT_EQ(r.header("Cache-Control"), "no-cache");
  }
  const auto page = http_request(port(), "GET", "/", "", {{"Accept-Encoding", "gzip"}});
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(gunzip(page.body), files_["/index.html"]);
}

TEST_F(WebUi, AClientThatTakesNoGzipGetsThePlainFile) {
  for (const char* enc : {"", "identity", "gzip;q=0"}) {
    SCOPED_TRACE(enc);
    const auto r = http_request(port(), "GET", "/index.html", "",
                                enc[0] ? Headers{{"Accept-Encoding", enc}} : Headers{});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Encoding"), "");
    EXPECT_EQ(r.body, files_["/index.html"]);
  }
}

TEST_F(WebUi, AKnownEtagIsA304WithoutABody) {
  const auto first = http_get(port(), "/");
  const std::string etag = first.header("ETag");
  ASSERT_FALSE(etag.empty());
  const auto again = http_request(port(), "GET", "/", "", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.header("ETag"), etag);
  const auto other = http_request(port(), "GET", "/", "", {{"If-None-Match", "\"something-else\""}});
  EXPECT_EQ(other.status, 200);
}

TEST_F(WebUi, TheApisStayBesideIt) {
  EXPECT_EQ(http_get(port(), "/v1/models").status, 200);
  EXPECT_EQ(http_get(port(), "/health").status, 200);
  EXPECT_EQ(http_get(port(), "/assets/no-such-file.js").status, 404);
}

TEST_F(WebUi, TheParameterTableIsPublishedForTheForms) {
  const auto r = http_get(port(), "/api/parameters");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = nlohmann::json::parse(r.body)["parameters"];
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& p : j) by_name[p["name"]] = p;
  // As README's parameter table documents them.
  EXPECT_EQ(by_name["temperature"]["type"], "number");
  EXPECT_EQ(by_name["temperature"]["default"], 0.8);
  EXPECT_EQ(by_name["temperature"]["openai_default"], 1);
  EXPECT_EQ(by_name["temperature"]["max"], 100);
  EXPECT_EQ(by_name["top_k"]["type"], "integer");
  EXPECT_EQ(by_name["top_k"]["default"], 40);
  EXPECT_EQ(by_name["stop"]["type"], "strings");
  EXPECT_EQ(by_name["stop"]["max"], 4);
  EXPECT_EQ(by_name["ignore_eos"]["type"], "boolean");
  EXPECT_FALSE(by_name["seed"]["help"].get<std::string>().empty());
}

TEST(WebUiOff, NoWebuiLeavesAPageNamingTheApis) {
  const auto model = shared_model(kModelFile);
  if (!fs::exists(model)) GTEST_SKIP() << "no shared model";
  ServerProcess s(serve_args(model, {"--no-webui"}));
  const auto r = http_get(s.port(), "/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
  for (const char* text : {"--no-webui", "/v1", "/api", "/api/ws", RMM_VERSION})
    EXPECT_NE(r.body.find(text), std::string::npos) << text << ": " << r.body;
  EXPECT_EQ(r.header("Content-Security-Policy"), "default-src 'none'");
  EXPECT_EQ(http_get(s.port(), "/index.html").status, 404);
  EXPECT_EQ(http_get(s.port(), "/v1/models").status, 200);
}

}  // namespace
}  // namespace rmm::test
