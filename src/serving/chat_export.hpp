#pragma once
// Stored conversations as the API shows them and as files a user downloads:
// JSON (every field and every branch, timings and logprobs as JSON values) and
// Markdown (a title heading, one heading per message of the current path (root
// to current leaf), contents verbatim so that code blocks survive).
#include <nlohmann/json.hpp>
#include <string>

#include "store/store.hpp"

namespace rmm::serving {

// {id, title, model, created_at, updated_at, message_count, current_leaf}; times in
// unix ms, current_leaf a message id or null.
nlohmann::ordered_json conversation_summary_json(const store::Conversation& c);
// The summary plus params and messages (all branches, by id) [{id, parent_id
// (null for a root), role, content, model, prompt_tokens, completion_tokens,
// timings, logprobs, created_at}].
nlohmann::ordered_json conversation_json(const store::Conversation& c);
nlohmann::ordered_json message_json(const store::ChatMessage& m);

std::string conversation_markdown(const store::Conversation& c);

// "chat-<id>.<extension>" with only filename-safe characters.
std::string export_file_name(const store::Conversation& c, const std::string& extension);

}  // namespace rmm::serving
