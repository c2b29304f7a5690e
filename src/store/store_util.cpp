#include "store/store_util.hpp"

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.hpp"
#include "core/utf8.hpp"

namespace rmm::store::util {

namespace {

[[noreturn]] void invalid(const std::string& message) { throw Error(ErrorKind::InvalidArgument, message); }

}  // namespace

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

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
  out.created_at = out.updated_at = now_ms();
  out.message_count = 0;
  out.messages.clear();
  return out;
}

void check_conversation(const Conversation& c) {
  check_text("conversation id", c.id);
  check_text("conversation title", c.title);
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

void check_query(const ConversationQuery& q) {
  if (q.limit < 1 || q.limit > 200)
    invalid("limit must be between 1 and 200, got " + std::to_string(q.limit));
  if (q.offset < 0) invalid("offset must be >= 0, got " + std::to_string(q.offset));
  check_text("search", q.search);
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

std::vector<std::string> tags_from_json(const std::string& json) {
  try {
    return nlohmann::json::parse(json).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::Internal, std::string("stored template tags are corrupt: ") + e.what());
  }
}

}  // namespace rmm::store::util
