#include "server/native/system_routes.hpp"

#include <charconv>

#include "server/api_error.hpp"
#include "server/exchange.hpp"
#include "server/query_string.hpp"
#include "server/route_guard.hpp"
#include "server/system_info.hpp"

namespace rmm::server::native {
namespace {

namespace http = boost::beast::http;
using status = http::status;

size_t history_param(const QueryString& q, size_t capacity) {
  const auto v = q.get("history");
  if (!v) return std::min<size_t>(60, capacity);
  size_t n = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || end != v->data() + v->size() || n > capacity)
    throw ApiError(
        status::bad_request,
        "'history' must be an integer from 0 to " + std::to_string(capacity) + " (got '" + *v + "')",
        "history");
  return n;
}

}  // namespace

void add_system_routes(Router& router, models::ResourceMonitor& monitor) {
  monitor.start();
  set_usage_monitor(&monitor);
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
