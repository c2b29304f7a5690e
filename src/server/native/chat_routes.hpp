#pragma once
// Chat history over HTTP, for the web and desktop front ends:
//   GET    /api/chat/history?q=&limit=&offset=   newest first, full-text search
//   POST   /api/chat/history                     create {title?, model?, params?, messages?}
//   GET    /api/chat/history/{id}                with messages
//   PATCH  /api/chat/history/{id}                rename {title}
//   DELETE /api/chat/history/{id}
//   POST   /api/chat/history/{id}/messages       append {role, content, ...} or {messages: [...]}
//   GET    /api/chat/history/{id}/export?format=json|markdown
#include "server/http_server.hpp"
#include "store/store.hpp"

namespace rmm::server::native {

void add_chat_routes(Router& router, store::ChatStore& store);

}  // namespace rmm::server::native
