// libFuzzer target for OpenAI request bodies: any bytes go through the body
// parser of every JSON route (parse_body_text: UTF-8, the nesting bound, JSON,
// an object), and what it accepts through the field checks of /v1/completions
// and /v1/chat/completions. A rejected body must raise ApiError (a 400 with a
// message); anything else (a crash, a sanitizer report, another exception, a
// value nested deeper than kMaxJsonDepth getting through) is a bug.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/json_limits.hpp"
#include "server/api_error.hpp"
#include "server/openai/request.hpp"

using namespace rmm::server;

namespace {

// Depth of a parsed value, without recursion (a deep one is what we look for).
int depth_of(const nlohmann::json& root) {
  int deepest = 0;
  std::vector<std::pair<const nlohmann::json*, int>> todo{{&root, 1}};
  while (!todo.empty()) {
    const auto [v, d] = todo.back();
    todo.pop_back();
    if (!v->is_structured()) continue;
    deepest = std::max(deepest, d);
    for (const auto& child : *v) todo.emplace_back(&child, d + 1);
  }
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json body;
  try {
    body = openai::parse_body_text(text);
  } catch (const ApiError&) {
    return 0;
  }
  if (depth_of(body) > rmm::kMaxJsonDepth) std::abort();  // the bound let a deeper value through
  (void)body.dump();  // the routes copy and dump bodies: recursive, safe only when bounded
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
