#pragma once
// Which browser origins may call the server: pages served from this machine,
// plus those the user allows (--cors-origin, "*" for any). Used for CORS
// headers on HTTP and for the WebSocket handshake, which browsers never check.
#include <string>
#include <vector>

namespace rmm::server {

bool origin_allowed(const std::string& origin, const std::vector<std::string>& allowed_origins);

}  // namespace rmm::server
