// libFuzzer target for OpenAI request bodies: any bytes that parse as JSON go
// through the field checks of /v1/completions and /v1/chat/completions. A
// rejected body must raise ApiError (a 400 with a message); anything else (a
// crash, a sanitizer report, another exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/utf8.hpp"
#include "server/api_error.hpp"
#include "server/openai/request.hpp"

using namespace rmm::server;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (!rmm::utf8::is_valid(text)) return 0;  // the server refuses these before parsing
  const auto body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return 0;
  try {
    const auto p = openai::parse_common(body, 32000);
    (void)p;
  } catch (const ApiError&) {
  }
  try {
    (void)openai::parse_messages(body);
  } catch (const ApiError&) {
  }
  try {
    (void)openai::parse_response_format(body);
  } catch (const ApiError&) {
  }
  return 0;
}
