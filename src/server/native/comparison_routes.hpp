#pragma once
// Prompt Architect comparisons kept in the store, so that the web UI can save
// one (its setup and results) and reopen it later:
//   GET    /api/prompts/comparisons[?limit=&offset=]  newest first, without bodies
//                                                    -> {items, total, limit, offset}
//   POST   /api/prompts/comparisons   {title?, kind, template_id?, body} -> 201 the record
//   GET    /api/prompts/comparisons/{id}             the record with its body
//   PATCH  /api/prompts/comparisons/{id}             {title?, body?} (at least one) -> the record
//   DELETE /api/prompts/comparisons/{id}             -> {id, deleted: true}
// A record: {id, title, kind, template_id, created_at, updated_at, body}; a
// summary is the same without body. kind is "models" (one template on up to 4
// models) or "versions" (two template versions over a table of values); body
// is any JSON object of at most 8 MiB less 64 KiB as compact JSON (413
// beyond; the record around it must fit the 8 MiB a server queues for one
// response). Visibility follows chat history: a key other than an admin key
// sees only what its own requests saved; others' are 404s, as are unknown
// ids. Validation errors are 400s whose `param` names the field.
#include "server/http_server.hpp"
#include "store/store.hpp"

namespace rmm::server::native {

void add_comparison_routes(Router& router, store::ComparisonStore& store);

}  // namespace rmm::server::native
