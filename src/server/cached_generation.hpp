#pragma once
// Generations for the routes, through the response cache when the server has
// one (HostOptions::cache). Two steps, because a route must send its response
// head (with X-RMM-Cache: hit | miss | bypass) before the first token:
// plan_generation() decides, start_generation() carries it out.
#include <memory>
#include <string>

#include "cache/response_cache.hpp"
#include "server/exchange.hpp"
#include "server/model_host.hpp"

namespace rmm::server {

inline constexpr const char* kCacheHeader = "X-RMM-Cache";

// What a request allows: `body_allows` is false for "cache": false;
// Cache-Control: no-store keeps it out entirely, no-cache only skips the lookup.
cache::Policy cache_policy(const Request& request, bool body_allows);

// A bypass (reason "disabled") when the server has no cache.
cache::Plan plan_generation(ModelHost& host, const HostedModel& model, const engine::GenerateRequest& request,
                            cache::Policy policy);

// Replays or submits to `model`'s engine; the canceller stops either and
// never keeps the model alive. Throws what EngineThread::submit throws.
cache::Canceller start_generation(ModelHost& host, const std::shared_ptr<HostedModel>& model,
                                  cache::Plan plan, engine::GenerateRequest request,
                                  engine::TokenCallback on_token, engine::DoneCallback on_done);

}  // namespace rmm::server
