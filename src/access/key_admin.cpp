#include "access/key_admin.hpp"

#include <algorithm>
#include <chrono>

#include "access/api_key.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/units.hpp"
#include "core/utf8.hpp"

namespace rmm::access {

namespace {

[[noreturn]] void bad(const std::string& message) { throw Error(ErrorKind::InvalidArgument, message); }

}  // namespace

NewKey create_key(store::KeyStore& store, const KeySpec& spec) {
  check_key_name(spec.name);
  if (!parse_scope(spec.scope))
    bad("scope '" + spec.scope.substr(0, 40) + "' is not read, generate or admin");
  if (spec.models.size() > 64) bad("at most 64 model patterns per key");
  for (const auto& m : spec.models) {
    if (m.empty() || m.size() > 256 || !utf8::is_valid(m) || m.find('\0') != std::string::npos)
      bad("model patterns must be 1 to 256 characters of valid UTF-8");
  }
  if (spec.expires_in_ms < 0) bad("expires must not be negative");
  for (int64_t v : {spec.requests_per_minute, spec.tokens_per_minute, spec.max_streams}) {
    if (v < -1) bad("limits must be 0 (none) or more");
  }
  NewKey out;
  out.key = generate_key();
  store::ApiKeyRecord r;
  r.name = spec.name;
  r.hash = hash_key(out.key);
  r.prefix = key_prefix(out.key);
  r.scope = spec.scope;
  r.models = spec.models;
  r.requests_per_minute = spec.requests_per_minute;
  r.tokens_per_minute = spec.tokens_per_minute;
  r.max_streams = spec.max_streams;
  r.created_at = unix_ms();
  r.expires_at = spec.expires_in_ms > 0 ? r.created_at + spec.expires_in_ms : 0;
  out.record = store.create_api_key(r);
  return out;
}

nlohmann::json key_json(const store::ApiKeyRecord& k, int64_t now) {
  auto limit = [](int64_t v) { return v < 0 ? nlohmann::json("default") : nlohmann::json(v); };
  const bool expired = k.expires_at != 0 && k.expires_at <= now;
  return {{"name", k.name},
          {"prefix", k.prefix},
          {"scope", k.scope},
          {"models", k.models},
          {"requests_per_minute", limit(k.requests_per_minute)},
          {"tokens_per_minute", limit(k.tokens_per_minute)},
          {"max_streams", limit(k.max_streams)},
          {"created_at", k.created_at},
          {"expires_at", k.expires_at ? nlohmann::json(k.expires_at) : nlohmann::json(nullptr)},
          {"last_used_at", k.last_used_at ? nlohmann::json(k.last_used_at) : nlohmann::json(nullptr)},
          {"revoked_at", k.revoked_at ? nlohmann::json(k.revoked_at) : nlohmann::json(nullptr)},
          {"state", k.revoked_at ? "revoked"
                    : expired    ? "expired"
                                 : "active"}};
}

nlohmann::json audit_json(const store::AuditEntry& e) {
  return {{"id", e.id},
          {"time", e.time},
          {"key", e.key_name},
          {"client", e.client},
          {"method", e.method},
          {"route", e.route},
          {"model", e.model},
          {"status", e.status},
          {"prompt_tokens", e.prompt_tokens},
          {"completion_tokens", e.completion_tokens},
          {"duration_ms", e.duration_ms}};
}

int64_t parse_since(const std::string& text, int64_t now) {
  if (text.empty()) return 0;
  if (text.size() >= 10 && text.size() <= 16 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::stoll(text);
  try {
    return now - parse_duration_ms(text, "since");
  } catch (const Error& e) {
    bad(std::string(e.what()) + " (since is unix milliseconds or a duration back from now: 1h, 7d)");
  }
}

KeySpec key_spec_from_json(const nlohmann::json& body) {
  KeySpec s;
  auto text = [&](const char* field) -> std::optional<std::string> {
    const auto it = body.find(field);
    if (it == body.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) bad(std::string("'") + field + "' must be a string");
    return it->get<std::string>();
  };
  auto integer = [&](const char* field, int64_t fallback) {
    const auto it = body.find(field);
    if (it == body.end() || it->is_null()) return fallback;
    if (!it->is_number_integer() || it->get<int64_t>() < 0)
      bad(std::string("'") + field + "' must be an integer of 0 (no limit) or more");
    return it->get<int64_t>();
  };
  s.name = text("name").value_or("");
  if (s.name.empty()) bad("'name' is required: the key's name");
  if (auto scope = text("scope")) s.scope = *scope;
  if (const auto it = body.find("models"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) bad("'models' must be a list of name patterns");
    for (const auto& m : *it) {
      if (!m.is_string()) bad("'models' must be a list of name patterns");
      s.models.push_back(m.get<std::string>());
    }
  }
  if (auto e = text("expires")) s.expires_in_ms = parse_duration_ms(*e, "'expires'");
  s.requests_per_minute = integer("requests_per_minute", -1);
  s.tokens_per_minute = integer("tokens_per_minute", -1);
  s.max_streams = integer("max_streams", -1);
  return s;
}

}  // namespace rmm::access
