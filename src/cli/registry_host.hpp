#pragma once
// The model registry as a model host sees it, for every front end that hosts
// models in process (`rmm serve`, rmm-desktop): one wiring, so that both name,
// list and accept models alike.
#include "models/registry.hpp"
#include "serving/model_host.hpp"

namespace rmm::cli {

// Points `ho` at `registry` (which outlives the host): request paths are
// accepted inside the registry's folders (the main, configured and added
// ones, asked per request), a file's names are its short name then its
// aliases, and the catalog is the registry's chat models by short name
// (rescanned when listed: a stat per file, only new or changed ones read).
void host_from_registry(serving::HostOptions& ho, models::Registry& registry);

}  // namespace rmm::cli
