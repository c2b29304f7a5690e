#pragma once
// A request's "keep_alive" (Ollama's semantics), "pin" and "num_ctx" fields.
#include <nlohmann/json.hpp>
#include <optional>

#include "server/api_error.hpp"
#include "serving/model_host.hpp"

namespace rmm::server {

// "5m", "90s", 300 (seconds), 0 (unload after the request), -1 (forever);
// nullopt when absent or null. Throws ApiError 400 for anything else.
inline serving::UseOptions use_options_from(const nlohmann::json& body) {
  serving::UseOptions use;
  if (const auto it = body.find("keep_alive"); it != body.end() && !it->is_null()) {
    try {
      if (it->is_number()) {
        use.keep_alive_ms = serving::keep_alive_seconds_ms(it->get<double>());
      } else if (it->is_string()) {
        use.keep_alive_ms = serving::parse_keep_alive_ms(it->get<std::string>());
      } else {
        throw Error(ErrorKind::InvalidArgument, "'keep_alive' must be a duration (\"5m\") or seconds");
      }
    } catch (const Error& e) {
      throw ApiError(boost::beast::http::status::bad_request, e.what(), "keep_alive");
    }
  }
  if (const auto it = body.find("pin"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean())
      throw ApiError(boost::beast::http::status::bad_request, "'pin' must be true or false", "pin");
    use.pin = it->get<bool>();
  }
  if (const auto it = body.find("num_ctx"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > (1 << 24))
      throw ApiError(boost::beast::http::status::bad_request,
                     "'num_ctx' must be a whole number of tokens from 1 to 16777216", "num_ctx");
    use.num_ctx = it->get<int>();
  }
  return use;
}

}  // namespace rmm::server
