#pragma once
// What the Chat screen asks the engine worker for (one answer to write) and
// the types its queued signals carry.
#include <QMetaType>
#include <optional>
#include <string>
#include <vector>

#include "engine/chat_format.hpp"
#include "engine/generation.hpp"
#include "store/store.hpp"

namespace rmm::desktop {

// The answer's settings: the system prompt and the engine's sampling parameters.
struct ChatParams {
  std::string system;  // "" = none; not stored, put before the history of every request
  float temperature = 0.8f;
  float top_p = 0.95f;
  int max_tokens = 512;  // -1: until the model ends it
  int64_t seed = -1;     // -1: random
};

// One answer to write and where it goes in the conversation tree.
struct ChatJob {
  std::string conversation_id;               // "" = a new conversation (then `question` is required)
  int64_t parent = 0;                        // the message the new ones follow (0: a root)
  std::optional<std::string> question;       // a user message first (a new or an edited question)
  std::vector<engine::ChatMessage> history;  // the messages from a root to `parent`
  std::string model_path;
  std::string model_name;
  ChatParams params;
  // A fork from an alternative token: the answer it comes from, the position
  // of the chosen token, and the events the new answer starts with (the
  // source's first fork_at events, then the chosen alternative's).
  int64_t fork_of = 0;
  int fork_at = 0;
  std::vector<engine::TokenEvent> prefix;
};

}  // namespace rmm::desktop

Q_DECLARE_METATYPE(rmm::engine::TokenEvent)
Q_DECLARE_METATYPE(rmm::store::Conversation)
Q_DECLARE_METATYPE(rmm::desktop::ChatJob)
