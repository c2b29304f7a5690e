#include "server/ws/ws_routes.hpp"

#include "server/cors.hpp"
#include "server/ws/ws_session.hpp"

namespace rmm::server::ws {

bool origin_allowed(const Request& request, const std::vector<std::string>& allowed_origins) {
  // Browsers open WebSockets to any site without asking CORS, so a page elsewhere
  // could drive the local server; clients that are not browsers send no Origin.
  const auto it = request.find(http::field::origin);
  return it == request.end() || server::origin_allowed(std::string(it->value()), allowed_origins);
}

void add_websocket_routes(Router& router, serving::ModelHost& host,
                          std::vector<std::string> allowed_origins) {
  router.add_websocket(
      "/api/ws",
      [&host, allowed = std::move(allowed_origins)](
          boost::beast::tcp_stream stream, Request request,
          UpgradeContext context) -> std::shared_ptr<LongConnection> {
        auto session = std::make_shared<WsSession>(std::move(stream), host, std::move(context));
        if (!origin_allowed(request, allowed)) {
          const std::string origin(request[http::field::origin]);
          session->refuse(std::move(request),
                          "origin '" + origin + "' may not open the WebSocket (allow it with --cors-origin)");
          return nullptr;
        }
        session->start(std::move(request));
        return session;
      });
}

}  // namespace rmm::server::ws
