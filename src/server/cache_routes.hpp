#pragma once
// GET /api/cache/stats (hit, miss and bypass counts, stored bytes, limits) and
// DELETE /api/cache (drops every entry) for the response cache.
#include <nlohmann/json.hpp>

#include "cache/response_cache.hpp"
#include "server/http_server.hpp"
#include "serving/model_host.hpp"

namespace rmm::server {

// {"enabled":false} when there is no cache.
nlohmann::json cache_stats_json(const cache::ResponseCache* cache);

void add_cache_routes(Router& router, serving::ModelHost& host);

}  // namespace rmm::server
