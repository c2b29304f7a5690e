#pragma once
// How an HTTP request steers the response cache: the body's "cache": false
// and the Cache-Control header, and the header that names the outcome.
#include "cache/response_cache.hpp"
#include "server/exchange.hpp"

namespace rmm::server {

inline constexpr const char* kCacheHeader = "X-RMM-Cache";

// What a request allows: `body_allows` is false for "cache": false;
// Cache-Control: no-store keeps it out entirely, no-cache only skips the lookup.
cache::Policy cache_policy(const Request& request, bool body_allows);

}  // namespace rmm::server
