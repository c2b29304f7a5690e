#pragma once
// The native API the web and desktop front ends use: /health, /api/system/*,
// /api/models/*.
#include "models/registry.hpp"
#include "server/http_server.hpp"
#include "serving/model_host.hpp"

namespace rmm::server::native {

// With a registry (not owned; outlives the router), GET /api/models lists its
// models and DELETE /api/models/{name} removes one; without, the models dir's
// top level is listed and deleted from.
void add_routes(Router& router, serving::ModelHost& host, models::Registry* registry = nullptr);

}  // namespace rmm::server::native
