#include "server/route_guard.hpp"

#include <algorithm>

#include "server/api_error.hpp"

namespace rmm::server {

Handler guarded(std::function<void(const std::shared_ptr<Exchange>&)> fn) {
  return [fn = std::move(fn)](const std::shared_ptr<Exchange>& ex) {
    try {
      fn(ex);
    } catch (const ApiError& e) {
      std::vector<std::pair<std::string, std::string>> headers;
      if (e.status == http::status::service_unavailable) headers.emplace_back("Retry-After", "1");
      ex->send_json(e.status, api_error_json(e.what(), e.type, e.param, e.code), headers);
    } catch (const Error& e) {
      const bool callers_fault = e.kind() == ErrorKind::InvalidArgument || e.kind() == ErrorKind::NotFound;
      std::vector<std::pair<std::string, std::string>> headers;
      if (status_for(e.kind()) == http::status::service_unavailable)
        headers.emplace_back("Retry-After", std::to_string(std::max(e.retry_after_s(), 1)));
      ex->send_json(status_for(e.kind()),
                    api_error_json(e.what(), callers_fault ? "invalid_request_error" : "server_error", "",
                                   error_kind_name(e.kind())),
                    headers);
    }
  };
}

Handler guarded_blocking(std::function<void(const std::shared_ptr<Exchange>&)> fn) {
  return [inner = guarded(std::move(fn))](const std::shared_ptr<Exchange>& ex) {
    ex->run_blocking([inner, ex] { inner(ex); });
  };
}

}  // namespace rmm::server
