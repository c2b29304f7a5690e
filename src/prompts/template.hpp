#pragma once
// Prompt Architect templates: typed blocks plus typed variables, parsed and
// validated from the JSON shape the UIs and outside tools share:
//   {id, name, description, tags, version,
//    blocks: [{type, text} | {type: "examples", pairs: [{user, assistant}]} |
//             {type: "parameters", temperature, max_tokens, top_p, seed, stop, response_format, model}],
//    variables: [{name, type, label, options, min, max, step, default, required}],
//    message}  (message: an optional note on this version, e.g. "shorter system prompt")
// Every problem is a TemplateError naming the JSON path ("blocks[2].text",
// "variables[0].default") or the variable it is about.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace rmm::prompts {

// Limits on one template (and on a build request's values).
inline constexpr size_t kMaxTemplateBytes = 256 * 1024;
inline constexpr size_t kMaxBlocks = 64;
inline constexpr size_t kMaxVariables = 64;
inline constexpr size_t kMaxTags = 32;
inline constexpr size_t kMaxTagLength = 64;
inline constexpr size_t kMaxNameLength = 200;
inline constexpr size_t kMaxOptions = 256;
inline constexpr size_t kMaxExamplePairs = 64;
inline constexpr size_t kMaxMessageLength = 1000;

// An rmm::Error (InvalidArgument) that also says which field is wrong.
class TemplateError : public Error {
 public:
  TemplateError(std::string field, const std::string& message)
      : Error(ErrorKind::InvalidArgument, field.empty() ? message : field + ": " + message),
        field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

enum class BlockType { System, Context, User, Examples, Parameters };
enum class VariableType { Text, Multiline, Select, Number, Boolean };

const char* block_type_name(BlockType t);
const char* variable_type_name(VariableType t);

struct ExamplePair {
  std::string user;
  std::string assistant;
  bool operator==(const ExamplePair&) const = default;
};

struct Block {
  BlockType type = BlockType::User;
  std::string text;                // system, context, user (may hold {{variables}})
  std::vector<ExamplePair> pairs;  // examples (may hold {{variables}})
  // parameters: a validated object of OpenAI request fields (temperature,
  // max_tokens, top_p, seed, stop, response_format, model).
  nlohmann::json params = nlohmann::json::object();
  bool operator==(const Block&) const = default;
};

struct Variable {
  std::string name;
  VariableType type = VariableType::Text;
  std::string label;
  std::vector<std::string> options;  // select only
  std::optional<double> min, max;    // number only
  std::optional<double> step;        // number only: the increment a form's slider moves by (> 0)
  nlohmann::json default_value;      // null when there is none; else of the variable's type
  bool required = false;
  bool operator==(const Variable&) const = default;
};

struct Template {
  std::string id;
  std::string name;
  std::string description;
  std::vector<std::string> tags;
  int version = 0;  // assigned by the store on save; 0 for a template not saved yet
  std::vector<Block> blocks;
  std::vector<Variable> variables;
  // A note on this version ("what changed"); kept with the version, not part of
  // its content (same_content ignores it). Out in JSON only when not empty.
  std::string message;

  const Variable* find_variable(const std::string& name) const;
};

// Parses and validates. `require_id`: an empty or absent id is an error
// (otherwise it is left empty for the caller to assign). Throws TemplateError.
Template parse_template(const nlohmann::json& j, bool require_id = false);
// The same from JSON text: checks the size limit and UTF-8 first.
Template parse_template_text(const std::string& text, bool require_id = false);
// Validates a template built in code (the checks parse_template makes).
void validate(const Template& t, bool require_id = false);

nlohmann::json to_json(const Template& t);
nlohmann::json to_json(const Block& b);
nlohmann::json to_json(const Variable& v);

bool is_valid_id(const std::string& id);
bool is_valid_variable_name(const std::string& name);
// An id made from a name: lower case letters and digits, other runs become '-'
// ("Coding Assistant" -> "coding-assistant"); "template" when nothing is left.
std::string id_from_name(const std::string& name);

// The placeholders in a text, in order of appearance (repeats kept).
// Throws TemplateError(field) for a malformed placeholder.
std::vector<std::string> placeholders(const std::string& text, const std::string& field);

}  // namespace rmm::prompts
