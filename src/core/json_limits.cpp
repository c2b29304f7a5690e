#include "core/json_limits.hpp"

#include "core/error.hpp"

namespace rmm {

void check_json_depth(std::string_view text, std::string_view what, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped byte (a quote, a backslash) never ends the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth)
          throw Error(ErrorKind::InvalidArgument,
                      std::string(what) + " is nested deeper than " + std::to_string(max_depth) + " levels");
        break;
      case ']':
      case '}':
        // Unbalanced closers are the parser's to report; never go below zero.
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
}

}  // namespace rmm
