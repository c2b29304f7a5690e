#pragma once
// OpenAI response objects: whole responses, stream chunks and logprobs, for
// chat completions and (legacy) text completions.
#include <nlohmann/json.hpp>
#include <string>

#include "engine/generation.hpp"

namespace rmm::server::openai {

enum class Kind { Chat, Text };

struct ResponseIds {
  std::string id;  // chatcmpl-... / cmpl-...
  int64_t created;
  std::string model;
};

ResponseIds new_ids(Kind kind, const std::string& model);
const char* finish_reason(engine::StopReason r);  // "stop", "length", or nullptr
nlohmann::ordered_json usage_json(const engine::Timings& t);

// Logprobs of one token in the chat shape {token, logprob, bytes, top_logprobs}, with rmm's
// `token_id` (there and in each alternative) and `entropy` (nats, the whole distribution).
nlohmann::ordered_json chat_logprob(const engine::TokenEvent& ev);

// Accumulates completions-style logprobs {tokens, token_logprobs, top_logprobs, text_offset}, with
// rmm's `token_entropies` beside them.
struct TextLogprobs {
  nlohmann::ordered_json tokens = nlohmann::ordered_json::array(),
                         token_logprobs = nlohmann::ordered_json::array(),
                         offsets = nlohmann::ordered_json::array(),
                         entropies = nlohmann::ordered_json::array();
  // {token: logprob} objects, best first: nlohmann::ordered_json would sort the keys.
  nlohmann::ordered_json top = nlohmann::ordered_json::array();
  size_t offset = 0;
  void add(const engine::TokenEvent& ev);
  nlohmann::ordered_json to_json() const;
};

nlohmann::ordered_json chunk(Kind kind, const ResponseIds& ids, nlohmann::ordered_json choice);
std::string sse(const nlohmann::ordered_json& j);  // "data: {...}\n\n"

}  // namespace rmm::server::openai
