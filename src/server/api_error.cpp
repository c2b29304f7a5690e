#include "server/api_error.hpp"

#include <algorithm>

namespace rmm::server {

nlohmann::json api_error_json(const std::string& message, const std::string& type, const std::string& param,
                              const std::string& code) {
  return {{"error",
           {{"message", message},
            {"type", type},
            {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
            {"code", code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code)}}}};
}

std::vector<std::pair<std::string, std::string>> error_headers(boost::beast::http::status status,
                                                               int retry_after_s) {
  if (status != boost::beast::http::status::service_unavailable) return {};
  return {{"Retry-After", std::to_string(std::max(retry_after_s, 1))}};
}

boost::beast::http::status status_for(ErrorKind kind) {
  using boost::beast::http::status;
  switch (kind) {
    case ErrorKind::InvalidArgument: return status::bad_request;
    case ErrorKind::NotFound: return status::not_found;
    case ErrorKind::BadFile: return status::unprocessable_entity;
    case ErrorKind::OutOfMemory: return status::insufficient_storage;
    case ErrorKind::Cancelled: return status::service_unavailable;
    case ErrorKind::Unavailable: return status::service_unavailable;
    case ErrorKind::Forbidden: return status::forbidden;
    case ErrorKind::Internal: return status::internal_server_error;
  }
  return status::internal_server_error;
}

}  // namespace rmm::server
