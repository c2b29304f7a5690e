#pragma once
// Usage over time, for the dashboard:
//   GET /api/system/usage[?history=N]   {interval_ms, capacity, samples: [...]}, the newest N
//                                       samples oldest first (default 60, at most the capacity)
// GET /api/system/info (in routes.cpp) carries the latest sample as "usage".
#include "models/resource_monitor.hpp"
#include "server/http_server.hpp"

namespace rmm::server::native {

// Starts `monitor` and makes it the source of /api/system/info's "usage"; it
// must outlive the server.
void add_system_routes(Router& router, models::ResourceMonitor& monitor);

}  // namespace rmm::server::native
