#include "server/openai/responses.hpp"

#include <chrono>
#include <cmath>
#include <random>
#include <string_view>

#include "codec/generation_json.hpp"
#include "core/utf8.hpp"

namespace rmm::server::openai {

using json = nlohmann::ordered_json;

ResponseIds new_ids(Kind kind, const std::string& model) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string id = kind == Kind::Chat ? "chatcmpl-" : "cmpl-";
  for (int i = 0; i < 24; ++i) id += alphabet[rng() % 62];
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return {id, std::chrono::duration_cast<std::chrono::seconds>(now).count(), model};
}

const char* finish_reason(engine::StopReason r) {
  // The one mapping (codec::finish_reason); OpenAI has no word for a cancelled or failed answer.
  const char* reason = codec::finish_reason(r);
  return std::string_view(reason) == "stop" || std::string_view(reason) == "length" ? reason : nullptr;
}

json usage_json(const engine::Timings& t) {
  return {{"prompt_tokens", t.prompt_tokens},
          {"completion_tokens", t.generated_tokens},
          {"total_tokens", t.prompt_tokens + t.generated_tokens},
          {"prompt_tokens_details", {{"cached_tokens", t.cached_tokens}}}};
}

namespace {

json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(c);
  return b;
}

json lp(float v) { return std::isfinite(v) ? json(v) : json(-9999.0); }

}  // namespace

json chat_logprob(const engine::TokenEvent& ev) {
  json top = json::array();
  for (const auto& a : ev.top) {
    top.push_back({{"token", utf8::sanitize(a.text)},
                   {"logprob", lp(a.logprob)},
                   {"bytes", bytes_of(a.text)},
                   {"token_id", a.token}});
  }
  json j = {{"token", utf8::sanitize(ev.piece)},
            {"logprob", lp(ev.logprob)},
            {"bytes", bytes_of(ev.piece)},
            {"top_logprobs", std::move(top)}};
  // rmm's extensions: the token ids (what continue_from takes, since text may tokenize
  // differently) and the whole distribution's entropy, which the top 20 cannot give.
  j["token_id"] = ev.token;
  if (std::isfinite(ev.entropy)) j["entropy"] = ev.entropy;
  return j;
}

void TextLogprobs::add(const engine::TokenEvent& ev) {
  tokens.push_back(utf8::sanitize(ev.piece));
  token_logprobs.push_back(lp(ev.logprob));
  entropies.push_back(std::isfinite(ev.entropy) ? json(ev.entropy) : json(nullptr));
  nlohmann::ordered_json t = nlohmann::ordered_json::object();
  for (const auto& a : ev.top) {
    const std::string key = utf8::sanitize(a.text);
    if (!t.contains(key)) t[key] = lp(a.logprob).get<double>();  // two tokens may share a text
  }
  top.push_back(std::move(t));
  offsets.push_back(offset);
  offset += ev.text.size();
}

json TextLogprobs::to_json() const {
  return {{"tokens", tokens},
          {"token_logprobs", token_logprobs},
          {"top_logprobs", top},
          {"text_offset", offsets},
          {"token_entropies", entropies}};
}

json chunk(Kind kind, const ResponseIds& ids, json choice) {
  json choices = json::array();
  if (!choice.is_null()) choices.push_back(std::move(choice));
  return {{"id", ids.id},
          {"object", kind == Kind::Chat ? "chat.completion.chunk" : "text_completion"},
          {"created", ids.created},
          {"model", ids.model},
          {"choices", std::move(choices)}};
}

std::string sse(const json& j) {
  return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

}  // namespace rmm::server::openai
