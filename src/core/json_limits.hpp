#pragma once
// Bounds on JSON that comes from outside (request bodies, WebSocket messages,
// template files, Hub answers). nlohmann's parser is iterative, but copying,
// dumping and destroying a value recurse once per level, and so do llama.cpp's
// common_json users (JSON Schema to grammar, chat templates): a 600 KB body of
// 100,000 nested objects overflows the stack. Nesting is therefore checked on
// the text, without recursion, before any parser builds a value.
//
// No nlohmann include here: rmm_core compiles against llama.cpp's vendored
// copy while the front ends use Debian's, so the parse helper is a template
// instantiated with the caller's json type.
#include <string_view>

namespace rmm {

// The deepest nesting of arrays and objects accepted: [[1]] is 2 levels.
// Real requests need a handful; JSON Schemas rarely more than 10.
inline constexpr int kMaxJsonDepth = 64;

// Throws Error(InvalidArgument, "<what> is nested deeper than <max_depth> levels")
// when arrays and objects in `text` nest deeper than `max_depth`. One linear
// pass over the bytes: brackets inside strings (escapes honoured) do not count.
// Text that is not JSON passes unless it is too deep; the parser reports the rest.
void check_json_depth(std::string_view text, std::string_view what, int max_depth = kMaxJsonDepth);

// The depth check, then Json::parse(text, nullptr, allow_exceptions): syntax
// errors are Json::parse_error (or a discarded value), as from nlohmann.
template <class Json>
Json parse_json_bounded(std::string_view text, std::string_view what, bool allow_exceptions = true) {
  check_json_depth(text, what);
  return Json::parse(text, nullptr, allow_exceptions);
}

}  // namespace rmm
