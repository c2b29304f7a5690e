#include "store/store_util.hpp"

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/json_limits.hpp"
#include "core/utf8.hpp"

namespace rmm::store::util {

namespace {

[[noreturn]] void invalid(const std::string& message) { throw Error(ErrorKind::InvalidArgument, message); }

}  // namespace

std::string random_id() {
  // random_device per call: ids are rare and must not repeat across processes.
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(32);
  for (int i = 0; i < 4; ++i) {
    uint32_t word = rd();
    for (int j = 0; j < 8; ++j) {
      id.push_back(kHex[word & 0xF]);
      word >>= 4;
    }
  }
  return id;
}

void check_text(std::string_view field, std::string_view value) {
  if (value.find('\0') != std::string_view::npos) invalid(std::string(field) + " contains a NUL byte");
  if (!utf8::is_valid(value)) invalid(std::string(field) + " is not valid UTF-8");
}

void check_nonempty_text(std::string_view field, std::string_view value) {
  if (value.empty()) invalid(std::string(field) + " must not be empty");
  check_text(field, value);
}

void check_template(const TemplateVersion& t) {
  check_text("template id", t.id);
  check_text("template name", t.name);
  check_text("template description", t.description);
  for (size_t i = 0; i < t.tags.size(); ++i)
    check_text("template tags[" + std::to_string(i) + "]", t.tags[i]);
  check_text("template body_json", t.body_json);
}

Conversation new_conversation(const Conversation& c) {
  check_conversation(c);
  Conversation out = c;
  if (out.id.empty()) out.id = random_id();
  out.created_at = out.updated_at = unix_ms();
  out.message_count = 0;
  out.messages.clear();
  return out;
}

void check_conversation(const Conversation& c) {
  check_text("conversation id", c.id);
  check_text("conversation title", c.title);
  check_text("conversation owner", c.owner);
  check_text("conversation model", c.model);
  check_text("conversation params_json", c.params_json);
  for (size_t i = 0; i < c.messages.size(); ++i)
    check_message(c.messages[i], "messages[" + std::to_string(i) + "]");
}

void check_message(const ChatMessage& m, std::string_view field) {
  const std::string f(field);
  if (m.role != "system" && m.role != "user" && m.role != "assistant" && m.role != "tool") {
    check_text(f + " role", m.role);
    invalid(f + " role must be system, user, assistant or tool, not \"" + m.role + "\"");
  }
  check_text(f + " content", m.content);
  check_text(f + " model", m.model);
  check_text(f + " timings_json", m.timings_json);
  check_text(f + " logprobs_json", m.logprobs_json);
  if (m.prompt_tokens < 0) invalid(f + " prompt_tokens must be >= 0");
  if (m.completion_tokens < 0) invalid(f + " completion_tokens must be >= 0");
}

void check_comparison_title(const std::string& title) {
  check_text("comparison title", title);
  if (title.size() > kMaxComparisonTitleBytes)
    invalid("comparison title is longer than " + std::to_string(kMaxComparisonTitleBytes) + " bytes");
}

void check_comparison_body(const std::string& body_json) {
  if (body_json.size() > kMaxComparisonBodyBytes)
    invalid("comparison body_json is larger than " + std::to_string(kMaxComparisonBodyBytes) + " bytes");
  check_text("comparison body_json", body_json);
  check_json_depth(body_json, "comparison body_json");  // InvalidArgument naming it
  // Checked without building a value; an object is the only JSON text whose first byte is '{'.
  const size_t first = body_json.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || body_json[first] != '{' || !nlohmann::json::accept(body_json))
    invalid("comparison body_json must be a JSON object");
}

void check_comparison(const Comparison& c) {
  check_text("comparison id", c.id);
  check_text("comparison owner", c.owner);
  check_comparison_title(c.title);
  if (c.kind != "models" && c.kind != "versions") {
    check_text("comparison kind", c.kind);
    invalid("comparison kind must be models or versions, not \"" + c.kind + "\"");
  }
  check_text("comparison template_id", c.template_id);
  if (c.template_id.size() > kMaxComparisonTemplateIdBytes)
    invalid("comparison template_id is longer than " + std::to_string(kMaxComparisonTemplateIdBytes) +
            " bytes");
  check_comparison_body(c.body_json.empty() ? "{}" : c.body_json);
}

Comparison new_comparison(const Comparison& c) {
  check_comparison(c);
  Comparison out = c;
  if (out.id.empty()) out.id = random_id();
  if (out.body_json.empty()) out.body_json = "{}";
  out.created_at = out.updated_at = unix_ms();
  return out;
}

void check_comparison_query(const ComparisonQuery& q) {
  if (q.limit < 1 || q.limit > 200)
    invalid("limit must be between 1 and 200, got " + std::to_string(q.limit));
  if (q.offset < 0) invalid("offset must be >= 0, got " + std::to_string(q.offset));
  if (q.owner) check_text("owner", *q.owner);
}

void check_query(const ConversationQuery& q) {
  if (q.limit < 1 || q.limit > 200)
    invalid("limit must be between 1 and 200, got " + std::to_string(q.limit));
  if (q.offset < 0) invalid("offset must be >= 0, got " + std::to_string(q.offset));
  check_text("search", q.search);
  if (q.owner) check_text("owner", *q.owner);
  if (search_words(q.search).size() > static_cast<size_t>(kMaxSearchWords))
    invalid("search has more than " + std::to_string(kMaxSearchWords) + " words");
}

void check_cache_limits(const CacheLimits& limits) {
  if (limits.ttl_ms < 0) invalid("cache ttl_ms must be >= 0");
  if (limits.max_bytes < 0) invalid("cache max_bytes must be >= 0");
}

void check_model(const ModelRecord& m) {
  check_nonempty_text("model path", m.path);
  check_nonempty_text("model short_name", m.short_name);
  check_nonempty_text("model kind", m.kind);
  check_text("model sha256", m.sha256);
  check_text("model metadata_json", m.metadata_json);
  check_text("model split_group", m.split_group);
  if (m.size < 0) invalid("model size must be >= 0");
}

void check_model_speed(const ModelSpeed& s) {
  check_nonempty_text("speed backend", s.backend);
  auto ok = [](double v) { return std::isfinite(v) && v >= 0; };
  if (!ok(s.prompt_tokens_per_second) || !ok(s.generation_tokens_per_second))
    invalid("speeds must be finite and >= 0");
}

namespace {

constexpr size_t kMaxApiKeyName = 64;
constexpr size_t kMaxApiKeyModels = 64;
constexpr int kMaxAuditLimit = 10000;

bool api_key_name_char(char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
         ch == '_' || ch == '-';
}

bool lowercase_hex(std::string_view s) {
  for (char ch : s)
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  return true;
}

void check_api_key_name(const std::string& name) {
  check_text("API key name", name);
  if (name.empty() || name.size() > kMaxApiKeyName)
    invalid("API key name must have 1 to " + std::to_string(kMaxApiKeyName) + " characters");
  for (char ch : name)
    if (!api_key_name_char(ch))
      invalid("API key name '" + name + "' may only have letters, digits, '.', '_' and '-'");
}

void check_not_negative(std::string_view field, int64_t value) {
  if (value < 0) invalid(std::string(field) + " must be >= 0, got " + std::to_string(value));
}

}  // namespace

void check_api_key(const ApiKeyRecord& k) {
  check_api_key_name(k.name);
  if (k.hash.size() != 64 || !lowercase_hex(k.hash))
    invalid("API key hash must be 64 lowercase hex digits (a sha256)");
  check_text("API key prefix", k.prefix);
  if (k.scope != "read" && k.scope != "generate" && k.scope != "admin") {
    check_text("API key scope", k.scope);
    invalid("API key scope must be read, generate or admin, not \"" + k.scope + "\"");
  }
  if (k.models.size() > kMaxApiKeyModels)
    invalid("API key models has more than " + std::to_string(kMaxApiKeyModels) + " patterns");
  for (size_t i = 0; i < k.models.size(); ++i)
    check_nonempty_text("API key models[" + std::to_string(i) + "]", k.models[i]);
  const std::pair<const char*, int64_t> limits[] = {{"API key requests_per_minute", k.requests_per_minute},
                                                    {"API key tokens_per_minute", k.tokens_per_minute},
                                                    {"API key max_streams", k.max_streams}};
  for (const auto& [field, value] : limits)
    if (value < -1) invalid(std::string(field) + " must be >= -1, got " + std::to_string(value));
  check_not_negative("API key created_at", k.created_at);
  check_not_negative("API key expires_at", k.expires_at);
  check_not_negative("API key last_used_at", k.last_used_at);
  check_not_negative("API key revoked_at", k.revoked_at);
}

void check_api_key_touch(int64_t id, int64_t last_used_ms) {
  check_not_negative("API key last_used_at (id " + std::to_string(id) + ")", last_used_ms);
}

void check_revoke(const std::string& name, int64_t now_ms) {
  check_text("API key name", name);
  if (now_ms <= 0) invalid("API key revoke time must be > 0, got " + std::to_string(now_ms));
}

ApiKeyRecord new_api_key(const ApiKeyRecord& k) {
  check_api_key(k);
  ApiKeyRecord out = k;
  if (out.created_at == 0) out.created_at = unix_ms();
  return out;
}

void api_key_exists(const ApiKeyRecord& k, bool name_taken) {
  if (name_taken) invalid("an API key named '" + k.name + "' exists");
  invalid("an API key with this hash exists (prefix " + k.prefix + ")");
}

void check_audit_entries(const std::vector<AuditEntry>& entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const AuditEntry& e = entries[i];
    const std::string f = "audit entries[" + std::to_string(i) + "] ";
    check_text(f + "key_name", e.key_name);
    check_text(f + "client", e.client);
    check_text(f + "method", e.method);
    check_text(f + "route", e.route);
    check_text(f + "model", e.model);
    check_not_negative(f + "time", e.time);
    check_not_negative(f + "status", e.status);
    check_not_negative(f + "prompt_tokens", e.prompt_tokens);
    check_not_negative(f + "completion_tokens", e.completion_tokens);
    check_not_negative(f + "duration_ms", e.duration_ms);
  }
}

void check_audit_query(const AuditQuery& q) {
  if (q.limit < 1 || q.limit > kMaxAuditLimit)
    invalid("limit must be between 1 and " + std::to_string(kMaxAuditLimit) + ", got " +
            std::to_string(q.limit));
  check_not_negative("since", q.since);
  check_not_negative("before_id", q.before_id);
  check_text("key_name", q.key_name);
}

std::vector<std::string> search_words(const std::string& search) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (char ch : search) {
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v') {
      flush();
    } else {
      word.push_back(ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch);
    }
  }
  flush();
  return words;
}

std::string body_with_version(const std::string& body_json, int version) {
  nlohmann::json body;
  if (body_json.empty()) {
    body = nlohmann::json::object();
  } else {
    try {
      body = nlohmann::json::parse(body_json);
    } catch (const nlohmann::json::exception& e) {
      invalid(std::string("template body_json is not valid JSON: ") + e.what());
    }
  }
  if (!body.is_object()) invalid("template body_json must be a JSON object");
  body["version"] = version;
  return body.dump();
}

std::string tags_to_json(const std::vector<std::string>& tags) { return nlohmann::json(tags).dump(); }

std::vector<std::string> tags_from_json(const std::string& json, std::string_view what) {
  try {
    return nlohmann::json::parse(json).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::Internal, "stored " + std::string(what) + " are corrupt: " + e.what());
  }
}

}  // namespace rmm::store::util
