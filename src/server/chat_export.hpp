#pragma once
// Stored conversations as the API shows them and as files a user downloads:
// JSON (every field, timings and logprobs as JSON values) and Markdown (a
// title heading, one heading per message, contents verbatim so that code
// blocks survive).
#include <nlohmann/json.hpp>
#include <string>

#include "store/store.hpp"

namespace rmm::server {

// {id, title, model, created_at, updated_at, message_count}; times in unix ms.
nlohmann::ordered_json conversation_summary_json(const store::Conversation& c);
// The summary plus params and messages [{id, role, content, model, prompt_tokens,
// completion_tokens, timings, logprobs, created_at}].
nlohmann::ordered_json conversation_json(const store::Conversation& c);
nlohmann::ordered_json message_json(const store::ChatMessage& m);

std::string conversation_markdown(const store::Conversation& c);

// "chat-<id>.<extension>" with only filename-safe characters.
std::string export_file_name(const store::Conversation& c, const std::string& extension);

}  // namespace rmm::server
