#include "prompts/placeholder.hpp"

#include "core/utf8.hpp"
#include "prompts/template.hpp"

namespace rmm::prompts {

void scan_placeholders(const std::string& text, const std::string& field,
                       const std::function<void(std::string_view)>& literal,
                       const std::function<void(const std::string&)>& placeholder) {
  const std::string_view s = text;
  size_t plain = 0;  // start of the literal run not yet passed on
  size_t i = 0;
  while (i < s.size()) {
    if (s.compare(i, 3, "\\{{") == 0) {
      literal(s.substr(plain, i - plain));
      literal("{{");
      i += 3;
      plain = i;
      continue;
    }
    if (s.compare(i, 2, "{{") != 0) {
      ++i;
      continue;
    }
    const size_t close = s.find("}}", i + 2);
    const std::string_view inner =
        close == std::string_view::npos ? s.substr(i + 2) : s.substr(i + 2, close - i - 2);
    size_t a = 0, b = inner.size();
    while (a < b && inner[a] == ' ') ++a;
    while (b > a && inner[b - 1] == ' ') --b;
    const std::string name(inner.substr(a, b - a));
    if (close == std::string_view::npos || !is_valid_variable_name(name)) {
      // At most 40 bytes of the text, never cut inside a character.
      std::string shown(s.substr(i, std::min<size_t>(40, s.size() - i)));
      const bool cut = shown.size() < s.size() - i;
      shown.resize(utf8::complete_prefix_length(shown));
      throw TemplateError(field, "'" + shown + (cut ? "...'" : "'") +
                                     " is not a placeholder {{name}} (write \\{{ for literal braces)");
    }
    literal(s.substr(plain, i - plain));
    placeholder(name);
    i = close + 2;
    plain = i;
  }
  literal(s.substr(plain));
}

}  // namespace rmm::prompts
