#include "serving/chat_messages.hpp"

#include <cstdio>
#include <random>

#include "codec/generation_json.hpp"

namespace rmm::serving {
namespace {

constexpr size_t kTitleChars = 80;

}  // namespace

store::ChatMessage stored_message(const engine::ChatMessage& m) {
  store::ChatMessage s;
  s.role = m.role;
  s.content = m.content;
  s.timings_json = "{}";
  return s;
}

std::string timings_json(const engine::Timings& t) { return codec::timings_json(t).dump(); }

store::ChatMessage answer_message(const std::string& model, const std::string& text, const engine::Timings& t,
                                  std::string logprobs_json) {
  store::ChatMessage m;
  m.role = "assistant";
  m.content = text;
  m.model = model;
  m.prompt_tokens = t.prompt_tokens;
  m.completion_tokens = t.generated_tokens;
  m.timings_json = timings_json(t);
  m.logprobs_json = std::move(logprobs_json);
  return m;
}

std::string title_from(const std::string& text) {
  std::string flat;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      space = !flat.empty();
      continue;
    }
    if (space) flat += ' ';
    space = false;
    flat += c;
  }
  // Cut at a character boundary: count the bytes that start a UTF-8 sequence.
  size_t chars = 0;
  for (size_t i = 0; i < flat.size(); ++i) {
    if ((static_cast<unsigned char>(flat[i]) & 0xC0) == 0x80) continue;
    if (chars == kTitleChars) return flat.substr(0, i) + "…";
    ++chars;
  }
  return flat;
}

std::string new_conversation_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace rmm::serving
