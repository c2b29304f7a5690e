#pragma once
// Prompt Architect over HTTP (templates in the store, every save a version):
//   GET    /api/prompts/templates                     latest version of each
//   POST   /api/prompts/templates                     create (id from the name when absent) -> 201
//   GET    /api/prompts/templates/{id}[?version=N]
//   PUT    /api/prompts/templates/{id}                save a new version
//   DELETE /api/prompts/templates/{id}                all versions
//   GET    /api/prompts/templates/{id}/versions
//   GET    /api/prompts/templates/{id}/diff?from=A&to=B   (default: the latest against the one before)
//   POST   /api/prompts/build   {template_id [, version] | template, values} -> {messages, params}
//   POST   /api/prompts/run     the same plus {model, stream (default true)}: answered as
//                               /v1/chat/completions answers the built messages and params
// Validation errors are 400s whose `param` names the field or variable.
#include "server/http_server.hpp"
#include "serving/model_host.hpp"
#include "store/store.hpp"

namespace rmm::server::native {

// Also seeds the starter templates the store lacks.
void add_prompt_routes(Router& router, serving::ModelHost& host, store::Store& store);

}  // namespace rmm::server::native
