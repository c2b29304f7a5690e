#pragma once
// /v1/chat/completions, /v1/completions, /v1/models and /v1/embeddings.
#include "server/http_server.hpp"
#include "server/model_host.hpp"

namespace rmm::server::openai {

void add_routes(Router& router, ModelHost& host);

}  // namespace rmm::server::openai
