#include "server/route_guard.hpp"

#include "server/api_error.hpp"

namespace rmm::server {

Handler guarded(std::function<void(const std::shared_ptr<Exchange>&)> fn) {
  return [fn = std::move(fn)](const std::shared_ptr<Exchange>& ex) {
    try {
      fn(ex);
    } catch (const ApiError& e) {
      ex->send_json(e.status, api_error_json(e.what(), e.type, e.param, e.code), error_headers(e.status));
    } catch (const Error& e) {
      const bool callers_fault = e.kind() == ErrorKind::InvalidArgument || e.kind() == ErrorKind::NotFound;
      const auto status = status_for(e.kind());
      const char* type = e.kind() == ErrorKind::Forbidden ? "permission_error"
                         : callers_fault                  ? "invalid_request_error"
                                                          : "server_error";
      ex->send_json(status, api_error_json(e.what(), type, "", error_kind_name(e.kind())),
                    error_headers(status, e.retry_after_s()));
    }
  };
}

Handler guarded_blocking(std::function<void(const std::shared_ptr<Exchange>&)> fn) {
  return [inner = guarded(std::move(fn))](const std::shared_ptr<Exchange>& ex) {
    ex->run_blocking([inner, ex] { inner(ex); });
  };
}

}  // namespace rmm::server
