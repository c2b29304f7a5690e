#pragma once
// GET /api/ws: the WebSocket token stream (protocol in server/ws/protocol.hpp
// and the README's API section).
#include <string>
#include <vector>

#include "server/http_server.hpp"
#include "serving/model_host.hpp"

namespace rmm::server::ws {

// `allowed_origins`: browser origins allowed besides localhost ones ("*": any),
// as --cors-origin gives them; a page from elsewhere gets 403 instead of the socket.
void add_websocket_routes(Router& router, serving::ModelHost& host,
                          std::vector<std::string> allowed_origins = {});

// True for requests without an Origin (not a browser), localhost origins and allowed ones.
bool origin_allowed(const Request& request, const std::vector<std::string>& allowed_origins);

}  // namespace rmm::server::ws
