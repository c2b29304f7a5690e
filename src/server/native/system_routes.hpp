#pragma once
// The server itself and the machine it runs on:
//   GET /health, /api/system/health     {status: ok, model} (503 {status: loading} while the first
//                                       model loads)
//   GET /api/parameters                 the generation parameters: names, types, ranges, defaults, help
//   GET /api/system/info                the hardware, disk, cache stats and the latest usage sample
//   GET /api/system/usage[?history=N]   {interval_ms, capacity, samples: [...]}, the newest N
//                                       samples oldest first (default 60, at most the capacity)
#include "models/resource_monitor.hpp"
#include "server/http_server.hpp"
#include "serving/model_host.hpp"

namespace rmm::server::native {

// Every route above. `host` and `monitor` must outlive the server; the
// caller starts the monitor (registering starts nothing).
void add_system_routes(Router& router, serving::ModelHost& host, const models::ResourceMonitor& monitor);

// GET /api/system/usage alone, over `monitor` (which must outlive the server).
void add_usage_route(Router& router, const models::ResourceMonitor& monitor);

}  // namespace rmm::server::native
