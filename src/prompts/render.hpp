#pragma once
// Rendering: a template plus values -> OpenAI-style chat messages and
// request parameters.
//
// Blocks become messages in order: system -> "system", context and user ->
// "user", examples -> alternating "user" / "assistant" turns, parameters ->
// the params object. A block that renders to nothing but whitespace is left
// out, and so is a context block whose optional (not required) variables all
// render empty (optional context). Trailing whitespace is trimmed, and neighbouring messages of one
// role are joined with a blank line (many chat templates insist that roles
// alternate).
//
// Values: `{{name}}` gets the value given for `name` (checked against the
// variable's type: one line of text for text, any text for multiline, one of
// the options for select, a number within min..max for number, true/false for
// boolean), else its default (a text default may use other variables'
// {{names}}), else an error when it is required, else "" (false for
// booleans). Values are inserted literally: braces inside a value are never
// expanded. Unknown value names are errors. Errors are TemplateError with the
// field "values.NAME".
#include <nlohmann/json.hpp>
#include <string>

#include "prompts/template.hpp"

namespace rmm::prompts {

struct Rendered {
  nlohmann::json messages = nlohmann::json::array();  // [{role, content}]
  nlohmann::json params = nlohmann::json::object();   // from the parameters block
};

Rendered render(const Template& t, const nlohmann::json& values);

// {messages, params}
nlohmann::json to_json(const Rendered& r);

// An OpenAI /v1/chat/completions body: the params' fields plus messages.
nlohmann::json chat_request(const Rendered& r);

// A value typed for `v` from command-line text (numbers and booleans parsed;
// true/false, yes/no, 1/0). Throws TemplateError naming the variable.
nlohmann::json value_from_string(const Variable& v, const std::string& text);

}  // namespace rmm::prompts
