#pragma once
// The server's replies on the WebSocket token stream (GET /api/ws), built as
// JSON text; the client's commands are in commands.hpp. Kept apart from the
// connection so that both are testable alone.
#include <string>

#include "core/error.hpp"
#include "engine/chat_format.hpp"
#include "engine/generation.hpp"
#include "server/ws/commands.hpp"

namespace rmm::serving {
struct HostedModel;
}

namespace rmm::server::ws {

// Server → client messages, as JSON text.
std::string error_message(const std::string& error_type, const std::string& message,
                          const std::string& id = "");
std::string token_message(const std::string& id, const engine::TokenEvent& ev);
// `note` explains a cancellation the server made itself ("" for none).
std::string complete_message(const std::string& id, const engine::GenerationResult& r,
                             const std::string& note = "");
std::string load_progress_message(float progress, const std::string& id);
std::string load_complete_message(const serving::HostedModel& m, const std::string& id);
std::string paused_message(const std::string& id);
std::string resumed_message(const std::string& id, size_t buffered);

// "stop", "length", "cancelled" or "error".
const char* finish_reason(engine::StopReason r);
// invalid_request, not_found, bad_model, out_of_memory, cancelled, server_error.
const char* error_type_for(ErrorKind kind);

}  // namespace rmm::server::ws
