#pragma once
// Request bodies, for every route that takes JSON: the body parsed and checked
// (Content-Type, UTF-8, nesting, an object) and its common fields read. A
// field that is absent or null takes its default; a wrong type is a 400 that
// names the field.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "server/exchange.hpp"

namespace rmm::server {

// Throws a 400 ApiError naming `param` (the field at fault; "" for the body as a whole).
[[noreturn]] void bad_request(const std::string& param, const std::string& message);

// Body → JSON object; checks Content-Type and UTF-8 (400/415 otherwise).
nlohmann::json parse_body(const Exchange& ex);
// The body's text → JSON object: UTF-8, nesting at most kMaxJsonDepth, an object (400 otherwise).
nlohmann::json parse_body_text(std::string_view text);

// The field `name` of `body`, or nullptr when it is absent or null.
const nlohmann::json* body_field(const nlohmann::json& body, const char* name);
// A boolean field ("'NAME' must be true or false" otherwise).
bool bool_field(const nlohmann::json& body, const char* name, bool fallback);
// An integer field (a float with no fraction counts) from lo to hi.
int64_t integer_field(const nlohmann::json& body, const char* name, int64_t lo, int64_t hi, int64_t fallback);
// A string field ("'NAME' must be a string" otherwise); nullopt when absent or null.
std::optional<std::string> string_field(const nlohmann::json& body, const char* name);
// The model a native request names, in "model", "path" or "name" (the first
// present); "" when none is.
std::string model_field(const nlohmann::json& body);

}  // namespace rmm::server
