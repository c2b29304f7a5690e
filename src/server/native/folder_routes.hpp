#pragma once
// The models folders, for the Models screen's "Add a folder":
//   GET /api/models/folders, POST /api/models/folders {"path": ...},
//   DELETE /api/models/folders?path=...
// Adding one makes the server walk a folder the request names, so the routes
// that change the list are admin-only and audited (route_access), and what
// they answer is the registry's own: model names, paths, kinds and sizes of
// model files, never other files' names or contents.
#include "models/registry.hpp"
#include "server/http_server.hpp"

namespace rmm::server::native {

// `registry` outlives the router. Added before /api/models/{name}, whose
// pattern would take these paths otherwise.
void add_folder_routes(Router& router, models::Registry& registry);

}  // namespace rmm::server::native
