#pragma once
// The native API the web and desktop front ends use: /health, /api/system/*,
// /api/models/*.
#include "server/http_server.hpp"
#include "server/model_host.hpp"

namespace rmm::server::native {

void add_routes(Router& router, ModelHost& host);

}  // namespace rmm::server::native
