#pragma once
// The models, for the web and desktop front ends:
//   GET /api/models, GET /api/models/loaded, GET /api/models/{id}/info,
//   POST /api/models/load, /api/models/unload, /api/models/pin,
//   DELETE /api/models/{name}.
#include "models/registry.hpp"
#include "server/http_server.hpp"
#include "serving/model_host.hpp"

namespace rmm::server::native {

// With a registry (not owned; outlives the router), GET /api/models lists its
// models, DELETE /api/models/{name} removes one and the folder routes are
// added; without, the models dir's top level is listed and deleted from.
void add_model_routes(Router& router, serving::ModelHost& host, models::Registry* registry = nullptr);

}  // namespace rmm::server::native
