#include "server/web_ui.hpp"

#include <zlib.h>

#include <string>

#include "server/route_guard.hpp"
#include "server/web_assets.hpp"

namespace rmm::server {

namespace http = boost::beast::http;
using status = http::status;

// 'self' covers same-origin ws: in current browsers (CSP Level 3); style-src
// needs no 'unsafe-inline' because the build ships its CSS as files and sets
// styles only through the CSSOM.
const char* const kWebUiContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

namespace {

bool accepts_gzip(const Request& req) {
  const auto it = req.find(http::field::accept_encoding);
  if (it == req.end()) return false;
  const std::string value(it->value());
  // "gzip;q=0" refuses it; any other mention accepts it.
  const auto at = value.find("gzip");
  if (at == std::string::npos) return false;
  const auto next = value.find(',', at);
  const std::string part = value.substr(at, next == std::string::npos ? std::string::npos : next - at);
  return part.find("q=0") == std::string::npos || part.find("q=0.") != std::string::npos;
}

// For the rare client that takes no gzip (curl without --compressed).
std::string gunzip(std::string_view data, size_t size) {
  std::string out(size, '\0');
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  inflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("embedded web asset is damaged");
  return out;
}

void serve(const std::shared_ptr<Exchange>& ex, const WebAsset& a) {
  const auto& req = ex->request();
  std::vector<std::pair<std::string, std::string>> headers = {
      {"ETag", std::string(a.etag)},
      {"Cache-Control", a.immutable ? "public, max-age=31536000, immutable" : "no-cache"},
      {"Vary", "Accept-Encoding"},
      {"Content-Security-Policy", kWebUiContentSecurityPolicy},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
  };
  if (const auto it = req.find(http::field::if_none_match); it != req.end()) {
    const std::string tags(it->value());
    if (tags == "*" || tags.find(a.etag) != std::string::npos) {
      ex->send(status::not_modified, "", std::string(a.content_type), headers);
      return;
    }
  }
  if (accepts_gzip(req)) {
    headers.emplace_back("Content-Encoding", "gzip");
    ex->send(status::ok, std::string(a.gzipped), std::string(a.content_type), headers);
  } else {
    ex->send(status::ok, gunzip(a.gzipped, a.size), std::string(a.content_type), headers);
  }
}

void add_api_page(Router& router, WebUi mode) {
  const std::string why = mode == WebUi::Off
                              ? "the web UI is turned off (rmm serve --no-webui)"
                              : "the web UI is not built into this binary (Node.js was missing "
                                "when it was built)";
  const std::string page =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>rmm serve</title>"
      "</head><body><h1>RunMyModel " RMM_VERSION "</h1><p>This is the rmm server's API; " +
      why +
      ".</p><ul>"
      "<li><code>/v1</code>: the OpenAI API (<code>GET /v1/models</code>, <code>POST "
      "/v1/chat/completions</code>, <code>POST /v1/completions</code>)</li>"
      "<li><code>/api</code>: the native API (<code>GET /api/models</code>, <code>GET "
      "/api/models/loaded</code>, <code>GET /api/system/info</code>, chat history, prompt "
      "templates, keys, audit)</li>"
      "<li><code>/api/ws</code>: the WebSocket token stream, every token with its probability and "
      "alternatives</li><li><code>/health</code></li></ul></body></html>\n";
  router.add(
      http::verb::get, "/", guarded([page](const std::shared_ptr<Exchange>& ex) {
        ex->send(status::ok, page, "text/html; charset=utf-8",
                 {{"Content-Security-Policy", "default-src 'none'"}, {"X-Content-Type-Options", "nosniff"}});
      }));
}

}  // namespace

void add_web_ui_routes(Router& router, WebUi mode) {
  const auto& assets = web_assets();
  const WebAsset* index = nullptr;
  for (const auto& a : assets) {
    if (a.path == "/index.html") index = &a;
  }
  if (mode == WebUi::Off || !index) {
    add_api_page(router, mode);
    return;
  }
  router.add(http::verb::get, "/",
             guarded([index](const std::shared_ptr<Exchange>& ex) { serve(ex, *index); }));
  for (const auto& a : assets) {
    router.add(http::verb::get, std::string(a.path),
               guarded([&a](const std::shared_ptr<Exchange>& ex) { serve(ex, a); }));
  }
}

}  // namespace rmm::server
