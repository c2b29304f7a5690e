#pragma once
// Hugging Face Hub routes of the native API:
//   GET  /api/models/search?q=QUERY[&limit=N]  GGUF repos, most downloaded first
//   POST /api/models/pull {"model": "OWNER/REPO[:QUANT]" | URL, "revision"?, "stream"?: true}
//        progress as SSE events (pull_plan, pull_file, pull_progress, pull_complete, error);
//        a client that goes away stops the pull and leaves the .part for a later resume.
// Register them before any GET /api/models/{name} pattern (the router takes the first match).
#include <filesystem>

#include "server/http_server.hpp"

namespace rmm::server::native {

// `models_dir`: where pulled repos go; the Hub endpoint and token come from
// the environment (RMM_HF_ENDPOINT, HF_TOKEN) when the server starts.
void add_hub_routes(Router& router, const std::filesystem::path& models_dir);

}  // namespace rmm::server::native
