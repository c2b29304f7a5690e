#include "server/ws/ws_routes.hpp"

#include "server/ws/ws_session.hpp"

namespace rmm::server::ws {

bool origin_allowed(const Request& request, const std::vector<std::string>& allowed_origins) {
  const auto it = request.find(http::field::origin);
  if (it == request.end()) return true;
  const std::string origin(it->value());
  for (const auto& a : allowed_origins) {
    if (a == "*" || a == origin) return true;
  }
  // Browsers open WebSockets to any site without asking CORS, so a page elsewhere
  // could drive the local server: only pages served from this machine may.
  for (const char* scheme : {"http://", "https://"}) {
    for (const char* host : {"localhost", "127.0.0.1", "[::1]"}) {
      const std::string base = std::string(scheme) + host;
      if (origin == base || origin.rfind(base + ":", 0) == 0) return true;
    }
  }
  return false;
}

void add_websocket_routes(Router& router, ModelHost& host, std::vector<std::string> allowed_origins) {
  router.add_websocket("/api/ws", [&host, allowed = std::move(allowed_origins)](
                                      boost::beast::tcp_stream stream, Request request) {
    auto session = std::make_shared<WsSession>(std::move(stream), host);
    if (!origin_allowed(request, allowed)) {
      const std::string origin(request[http::field::origin]);
      session->refuse(std::move(request),
                      "origin '" + origin + "' may not open the WebSocket (allow it with --cors-origin)");
      return;
    }
    session->start(std::move(request));
  });
}

}  // namespace rmm::server::ws
