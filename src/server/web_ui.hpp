#pragma once
// GET / and the web UI's files, served from the binary (web_assets): gzipped
// as built, with ETags, long caching for content-hashed files and a strict
// Content-Security-Policy. Without the UI (turned off, or built without
// Node), / is a short page naming the APIs.
#include "server/http_server.hpp"

namespace rmm::server {

enum class WebUi { On, Off };

void add_web_ui_routes(Router& router, WebUi mode);

// The policy every web UI page is served with: scripts, styles and
// connections from this origin only (WebSockets included), no frames, no plugins.
extern const char* const kWebUiContentSecurityPolicy;

}  // namespace rmm::server
