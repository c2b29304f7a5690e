#include "server/request_body.hpp"

#include <cmath>

#include "core/json_limits.hpp"
#include "core/utf8.hpp"
#include "server/api_error.hpp"

namespace rmm::server {

using json = nlohmann::json;
using http::status;

void bad_request(const std::string& param, const std::string& message) {
  throw ApiError(status::bad_request, message, param);
}

json parse_body(const Exchange& ex) {
  const auto& req = ex.request();
  const auto ct = req.find(http::field::content_type);
  const std::string type = ct == req.end() ? "" : std::string(ct->value());
  if (type.rfind("application/json", 0) != 0) {
    throw ApiError(status::unsupported_media_type,
                   "Content-Type must be application/json (got '" + type + "')", "", "invalid_request_error");
  }
  return parse_body_text(req.body());
}

json parse_body_text(std::string_view text) {
  if (!utf8::is_valid(text)) bad_request("", "the request body is not valid UTF-8");
  json body;
  try {
    // Bounded before nlohmann builds a value: copying or dumping a deeper one recurses past the stack.
    body = parse_json_bounded<json>(text, "the request body", false);
  } catch (const Error& e) {
    bad_request("", e.what());
  }
  if (body.is_discarded()) bad_request("", "the request body is not valid JSON");
  if (!body.is_object()) bad_request("", "the request body must be a JSON object");
  return body;
}

const json* body_field(const json& body, const char* name) {
  const auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

bool bool_field(const json& body, const char* name, bool fallback) {
  const json* v = body_field(body, name);
  if (!v) return fallback;
  if (!v->is_boolean()) bad_request(name, std::string("'") + name + "' must be true or false");
  return v->get<bool>();
}

int64_t integer_field(const json& body, const char* name, int64_t lo, int64_t hi, int64_t fallback) {
  const json* v = body_field(body, name);
  if (!v) return fallback;
  if (!v->is_number_integer() && !(v->is_number_float() && std::floor(v->get<double>()) == v->get<double>()))
    bad_request(name, std::string("'") + name + "' must be an integer");
  const double d = v->get<double>();
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
    bad_request(name, std::string("'") + name + "' must be between " + std::to_string(lo) + " and " +
                          std::to_string(hi));
  return static_cast<int64_t>(d);
}

std::optional<std::string> string_field(const json& body, const char* name) {
  const json* v = body_field(body, name);
  if (!v) return std::nullopt;
  if (!v->is_string()) bad_request(name, std::string("'") + name + "' must be a string");
  return v->get<std::string>();
}

std::string model_field(const json& body) {
  for (const char* key : {"model", "path", "name"}) {
    if (auto v = string_field(body, key)) return *v;
  }
  return "";
}

}  // namespace rmm::server
