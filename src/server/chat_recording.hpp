#pragma once
// Chat history for /v1/chat/completions, opt-in so that API users are not
// surprised: a request that carries "rmm_conversation_id" (or the header
// X-RMM-Conversation) with an existing id or "new" has its new messages and
// the answer stored once the answer is complete. The new messages are all of
// them for "new", else the user/tool messages after the request's last
// assistant or system message (a client resends its history each turn). They
// are appended as one chain after the conversation's current leaf (a
// conversation is a tree of branches; this extends the one in view).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/chat_format.hpp"
#include "engine/generation.hpp"
#include "server/exchange.hpp"
#include "store/store.hpp"

namespace rmm::server {

inline constexpr const char* kConversationField = "rmm_conversation_id";
inline constexpr const char* kConversationHeader = "X-RMM-Conversation";

class ChatRecording {
 public:
  // nullptr when the request does not ask to be stored. Throws ApiError: 400
  // for a malformed id (or no store on this server), 404 for an unknown id.
  // Called before generating, so that a bad id costs no generation.
  static std::shared_ptr<ChatRecording> from_request(store::Store* store, const Exchange& ex,
                                                     const nlohmann::json& body,
                                                     const std::vector<engine::ChatMessage>& messages,
                                                     const std::string& model_id);

  // The conversation's id (assigned up front for "new", so that a stream's
  // header can carry it before the conversation exists).
  const std::string& conversation_id() const { return id_; }

  // Stores the new messages and the answer. Failures are logged rather than
  // thrown: the answer is complete and goes to the client all the same.
  void finish(const std::string& answer, const engine::GenerationResult& r, const std::string& logprobs_json);

 private:
  store::Store* store_ = nullptr;
  std::string id_;
  std::string model_;  // writes the answer
  bool create_ = false;
  bool set_title_ = false;  // an existing conversation without a title gets one
  store::Conversation conversation_;
  std::vector<store::ChatMessage> pending_;
};

// The generation parameters a /v1 body gave, as a new conversation keeps
// them: the table's as read (codec::parameters_json), /v1's own options as sent.
std::string recorded_params(const nlohmann::json& body);
}  // namespace rmm::server
