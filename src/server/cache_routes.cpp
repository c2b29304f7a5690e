#include "server/cache_routes.hpp"

#include "server/route_guard.hpp"

namespace rmm::server {

nlohmann::json cache_stats_json(const cache::ResponseCache* cache) {
  if (!cache) return {{"enabled", false}};
  const auto s = cache->stats();
  return {{"enabled", s.enabled},
          {"hits", s.hits},
          {"misses", s.misses},
          {"bypasses", s.bypasses},
          {"bypass_reasons",
           {{"disabled", s.bypass_disabled},
            {"opted_out", s.bypass_opt_out},
            {"not_deterministic", s.bypass_nondeterministic},
            {"model_hash_pending", s.bypass_hash_pending}}},
          {"stored", s.stored},
          {"errors", s.errors},
          {"bytes", s.bytes},
          {"ttl_ms", s.options.ttl_ms},
          {"max_bytes", s.options.max_bytes}};
}

void add_cache_routes(Router& router, serving::ModelHost& host) {
  router.add(http::verb::get, "/api/cache/stats",
             guarded_blocking([&host](const std::shared_ptr<Exchange>& ex) {
               ex->send_json(http::status::ok, cache_stats_json(host.options().cache));
             }));
  router.add(http::verb::delete_, "/api/cache",
             guarded_blocking([&host](const std::shared_ptr<Exchange>& ex) {
               if (auto* c = host.options().cache) c->clear();
               ex->send_json(http::status::ok, cache_stats_json(host.options().cache));
             }));
}

}  // namespace rmm::server
