// libFuzzer target for Prompt Architect templates: any bytes go through the
// file import path (parse_template_text: size, UTF-8, the nesting bound, JSON);
// a JSON document read with the same bound as the server's bodies goes through
// template parsing and validation; one that passes is rendered (with the
// document's "values" when it has them, else with the defaults), written back
// to JSON and parsed again, which must give the same template. A rejected
// template or value must raise rmm::Error; anything else is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.hpp"
#include "core/json_limits.hpp"
#include "prompts/diff.hpp"
#include "prompts/render.hpp"
#include "prompts/template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)rmm::prompts::parse_template_text(text);  // `rmm prompt import FILE`
  } catch (const rmm::Error&) {
  }
  nlohmann::json doc;
  try {
    // As the server reads POST /api/prompts/* bodies (openai::parse_body).
    doc = rmm::parse_json_bounded<nlohmann::json>(text, "the request body", false);
  } catch (const rmm::Error&) {
    return 0;
  }
  if (doc.is_discarded()) return 0;
  const nlohmann::json& body = doc.is_object() && doc.contains("template") ? doc["template"] : doc;
  rmm::prompts::Template t;
  try {
    t = rmm::prompts::parse_template(body);
  } catch (const rmm::Error&) {
    return 0;
  }
  // What validation accepted survives its own JSON form unchanged.
  const auto again = rmm::prompts::parse_template(rmm::prompts::to_json(t));
  if (rmm::prompts::to_json(again) != rmm::prompts::to_json(t)) std::abort();
  (void)rmm::prompts::diff(t, again);
  const nlohmann::json values =
      doc.is_object() && doc.contains("values") ? doc["values"] : nlohmann::json::object();
  try {
    (void)rmm::prompts::chat_request(rmm::prompts::render(t, values));
  } catch (const rmm::Error&) {
  }
  return 0;
}
