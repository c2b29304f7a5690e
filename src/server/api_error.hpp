#pragma once
// Errors in OpenAI's shape, used by every route (native ones too, so clients
// need one parser): {"error": {"message", "type", "param", "code"}}.
#include <boost/beast/http/status.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace rmm::server {

nlohmann::json api_error_json(const std::string& message, const std::string& type,
                              const std::string& param = "", const std::string& code = "");

// Thrown by request parsing and handlers; the route wrapper turns it into a response.
struct ApiError : std::runtime_error {
  ApiError(boost::beast::http::status status, const std::string& message, std::string param = "",
           std::string type = "invalid_request_error", std::string code = "")
      : std::runtime_error(message),
        status(status),
        param(std::move(param)),
        type(std::move(type)),
        code(std::move(code)) {}
  boost::beast::http::status status;
  std::string param, type, code;
};

// The status a core error maps to (InvalidArgument 400, NotFound 404, OutOfMemory 507, ...).
boost::beast::http::status status_for(ErrorKind kind);

// The headers an error response carries: a 503 says when to try again
// (Retry-After, `retry_after_s` or at least 1 s); others carry none.
std::vector<std::pair<std::string, std::string>> error_headers(boost::beast::http::status status,
                                                               int retry_after_s = 0);

}  // namespace rmm::server
