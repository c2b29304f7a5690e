#pragma once
// /v1/chat/completions, /v1/completions, /v1/models and /v1/embeddings.
#include "server/http_server.hpp"
#include "serving/model_host.hpp"
#include "store/store.hpp"

namespace rmm::server::openai {

// With a store, a chat request may ask for its conversation to be kept
// (rmm_conversation_id, see server/chat_recording.hpp).
void add_routes(Router& router, serving::ModelHost& host, store::Store* store = nullptr);

// What POST /v1/chat/completions does with a parsed body (other routes that
// build chat requests, e.g. /api/prompts/run, answer through it too). With
// `store`, the body's rmm_conversation_id is honoured as on the route.
void serve_chat_completion(const std::shared_ptr<Exchange>& ex, serving::ModelHost& host,
                           const nlohmann::json& body, store::Store* store = nullptr);

}  // namespace rmm::server::openai
