#include "server/native/system_routes.hpp"

#include "codec/parameters_json.hpp"
#include "core/paths.hpp"
#include "server/api_error.hpp"
#include "server/cache_routes.hpp"
#include "server/exchange.hpp"
#include "server/query_string.hpp"
#include "server/route_guard.hpp"
#include "server/system_info.hpp"

namespace rmm::server::native {
namespace {

namespace http = boost::beast::http;
using json = nlohmann::json;
using status = http::status;

size_t history_param(const QueryString& q, size_t capacity) {
  const auto cap = static_cast<int64_t>(capacity);
  return static_cast<size_t>(q.integer("history", std::min<int64_t>(60, cap), 0, cap));
}

}  // namespace

void add_system_routes(Router& router, serving::ModelHost& host, const models::ResourceMonitor& monitor) {
  auto health = guarded([&host](const std::shared_ptr<Exchange>& ex) {
    if (host.loading() && !host.current()) {
      ex->send_json(status::service_unavailable, {{"status", "loading"}});
    } else {
      ex->send_json(status::ok,
                    {{"status", "ok"}, {"model", host.current() ? json(host.current()->id) : json(nullptr)}});
    }
  });
  router.add(http::verb::get, "/health", health);
  router.add(http::verb::get, "/api/system/health", health);
  router.add(http::verb::get, "/api/parameters", guarded([](const std::shared_ptr<Exchange>& ex) {
               ex->send_json(status::ok, {{"parameters", codec::parameter_table_json()}});
             }));
  router.add(http::verb::get, "/api/system/info",
             guarded([&host, &monitor](const std::shared_ptr<Exchange>& ex) {
               auto info = system_info(paths::home(), &monitor);
               info["cache"] = cache_stats_json(host.options().cache);
               ex->send_json(status::ok, info);
             }));
  add_usage_route(router, monitor);
}

void add_usage_route(Router& router, const models::ResourceMonitor& monitor) {
  router.add(http::verb::get, "/api/system/usage", guarded([&monitor](const std::shared_ptr<Exchange>& ex) {
               const QueryString q(std::string_view(ex->request().target()));
               const size_t n = history_param(q, monitor.options().capacity);
               nlohmann::json samples = nlohmann::json::array();
               for (const auto& s : monitor.history(n)) samples.push_back(usage_json(s));
               ex->send_json(status::ok, {{"interval_ms", monitor.options().interval.count()},
                                          {"capacity", monitor.options().capacity},
                                          {"samples", std::move(samples)}});
             }));
}

}  // namespace rmm::server::native
