#pragma once
// Chat history messages as every front end stores them (`rmm serve`'s /v1
// recording, `rmm chat`, rmm-desktop): one shape for a question, an answer
// with its usage and timings, a conversation's title and id.
#include <string>

#include "engine/chat_format.hpp"
#include "engine/generation.hpp"
#include "store/store.hpp"

namespace rmm::serving {

// A message of the conversation as sent (role and content; no usage).
store::ChatMessage stored_message(const engine::ChatMessage& m);
// An assistant message with usage and timings (and the token events when kept).
store::ChatMessage answer_message(const std::string& model, const std::string& text, const engine::Timings& t,
                                  std::string logprobs_json = "");
// The engine's timings as stored with a message (codec::timings_json, as everywhere).
std::string timings_json(const engine::Timings& t);
// A conversation title from a message: one line, at most ~80 characters.
std::string title_from(const std::string& text);
// A fresh conversation id (random, 32 hex digits).
std::string new_conversation_id();

}  // namespace rmm::serving
