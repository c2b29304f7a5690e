#pragma once
// The placeholder syntax of template texts, in one place for validation and
// rendering. `{{name}}` (spaces allowed inside: `{{ name }}`) stands for a
// variable. A backslash right before the braces, `\{{`, writes a literal `{{`
// and starts no placeholder; every other backslash is literal. Any other `{{`
// that does not form `{{name}}` is an error, so typos never pass silently.
#include <functional>
#include <string>
#include <string_view>

namespace rmm::prompts {

// Calls `literal` with each run of plain text (escapes resolved) and
// `placeholder` with each variable name, in order. Throws TemplateError(field).
void scan_placeholders(const std::string& text, const std::string& field,
                       const std::function<void(std::string_view)>& literal,
                       const std::function<void(const std::string&)>& placeholder);

}  // namespace rmm::prompts
