#pragma once
// Reads OpenAI request bodies into engine requests. Every field is checked;
// a wrong type or value becomes a 400 that names the field. Unknown fields
// are ignored, as OpenAI's own API does.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/chat_format.hpp"
#include "engine/generation.hpp"
#include "server/exchange.hpp"
#include "server/request_body.hpp"

namespace rmm::server::openai {

struct ParsedRequest {
  std::string model;
  engine::GenerateRequest generate;  // prompt filled in by the route
  bool stream = false;
  bool include_usage = false;
  bool logprobs = false;
  int top_logprobs = 0;
  bool cache = true;  // "cache": false opts out of the response cache
};

// The body readers (server/request_body.hpp), here too for the routes that read OpenAI bodies.
using server::parse_body;
using server::parse_body_text;

// The fields shared by /v1/completions and /v1/chat/completions.
ParsedRequest parse_common(const nlohmann::json& body, int n_vocab);

// messages → chat messages (content as a string or a list of text parts).
std::vector<engine::ChatMessage> parse_messages(const nlohmann::json& body);

// response_format → JSON schema text for constrained output ("" for none).
std::string parse_response_format(const nlohmann::json& body);

}  // namespace rmm::server::openai
