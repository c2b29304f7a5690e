// libFuzzer target for WebSocket client messages (src/server/ws/commands.cpp):
// any bytes go through parse_command as a text message would. A refused
// message must raise ProtocolError (an error reply; the socket stays open);
// anything else (a crash, a sanitizer report, another exception) is a bug. An
// accepted command must respect the limits the protocol promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "engine/parameters.hpp"
#include "server/ws/commands.hpp"

using namespace rmm::server::ws;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Command c;
  try {
    c = parse_command(text);
  } catch (const ProtocolError& e) {
    if (e.error_type.empty() || e.id.size() > kMaxIdBytes) std::abort();
    return 0;
  }
  if (const auto* g = std::get_if<GenerateCommand>(&c)) {
    if (g->id.empty() || g->id.size() > kMaxIdBytes) std::abort();
    if (!rmm::engine::strings_problem(*rmm::engine::find_parameter("stop"), g->request.stop).empty())
      std::abort();
    if (g->request.top_logprobs < 0 || g->request.top_logprobs > kMaxAlternatives) std::abort();
    if (g->chat == g->messages.empty()) std::abort();  // messages exactly when it is a chat
  } else if (const auto* l = std::get_if<LoadCommand>(&c)) {
    if (l->model.empty()) std::abort();
  } else if (std::get<ControlCommand>(c).id.empty()) {
    std::abort();
  }
  return 0;
}
