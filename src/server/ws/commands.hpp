#pragma once
// The client's commands on the WebSocket token stream (GET /api/ws), parsed
// and checked field by field: all that a client's text reaches before the
// server acts on it (fuzzed by fuzz/fuzz_ws_message.cpp).
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.hpp"
#include "engine/chat_format.hpp"
#include "engine/generation.hpp"

namespace rmm::server::ws {

// Limits that a client can hit; they appear in error messages.
inline constexpr size_t kMaxMessageBytes = 1024 * 1024;  // incoming text message
inline constexpr size_t kMaxIdBytes = 256;
inline constexpr int kMaxAlternatives = 20;

// {"type":"load","model":PATH_OR_NAME[,"id":TAG]}
struct LoadCommand {
  std::string model;
  std::string id;   // optional tag echoed in the replies
  int num_ctx = 0;  // tokens a conversation needs (0: the model's default)
};

// {"type":"generate","id":..,"messages"|"prompt":..,"params":{..},"alternatives":K[,"model":..]
//  [,"continue_from":{"tokens":[id,...]}]}
struct GenerateCommand {
  std::string id;
  std::string model;  // optional: must name the loaded model when given
  bool chat = false;  // messages (chat template) rather than a raw prompt
  std::vector<engine::ChatMessage> messages;
  std::string prompt;
  engine::GenerateRequest request;  // everything but the prompt tokens
  bool cache = true;                // false: kept out of the response cache
};

// {"type":"stop"|"pause"|"resume","id":..}
struct ControlCommand {
  enum class Kind { Stop, Pause, Resume } kind;
  std::string id;
};

using Command = std::variant<LoadCommand, GenerateCommand, ControlCommand>;

// A client message that cannot be accepted. `id` is the message's id when it
// had a readable one, so that the client can tell which command was refused.
struct ProtocolError : std::runtime_error {
  ProtocolError(std::string error_type, const std::string& message, std::string id = "")
      : std::runtime_error(message), error_type(std::move(error_type)), id(std::move(id)) {}
  std::string error_type;
  std::string id;
};

// Parses one text message. Throws ProtocolError naming the field and the problem.
Command parse_command(std::string_view text);

}  // namespace rmm::server::ws
