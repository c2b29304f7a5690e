#include "prompts/template.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "codec/parameters_json.hpp"
#include "core/json_limits.hpp"
#include "core/utf8.hpp"
#include "prompts/placeholder.hpp"

namespace rmm::prompts {
namespace {

using json = nlohmann::json;

const char* json_type_word(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "a list";
    case json::value_t::object: return "an object";
    case json::value_t::discarded: return "nothing";
    default: return "a number";
  }
}

[[noreturn]] void fail(const std::string& field, const std::string& message) {
  throw TemplateError(field, message);
}

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

// Checks that only `allowed` keys appear in an object.
void only_keys(const json& obj, const std::string& field, std::initializer_list<const char*> allowed) {
  for (const auto& item : obj.items()) {
    const std::string& key = item.key();  // a plain name: lambdas may not capture bindings in clang 14
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; })) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(field.empty() ? key : field + "." + key, "unknown field (expected " + list + ")");
    }
  }
}

std::string get_string(const json& obj, const char* key, const std::string& field, bool required,
                       size_t max_length = kMaxTemplateBytes) {
  const std::string where = field.empty() ? key : field + "." + key;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) fail(where, "is required");
    return "";
  }
  if (!it->is_string()) fail(where, std::string("must be a string, not ") + json_type_word(*it));
  std::string s = it->get<std::string>();
  // nlohmann's parser rejects invalid UTF-8 in text, but a json built in code may hold any bytes.
  if (!utf8::is_valid(s)) fail(where, "is not valid UTF-8");
  if (s.size() > max_length) fail(where, "is longer than " + std::to_string(max_length) + " bytes");
  return s;
}

bool one_line(const std::string& s) { return s.find_first_of("\r\n") == std::string::npos; }

// ---- parameters -------------------------------------------------------------

json parse_parameters(const json& b, const std::string& field) {
  // The generation parameter table's names, types, ranges and messages (engine/parameters.hpp).
  for (const auto& item : b.items()) {
    const std::string& key = item.key();
    if (key == "type" || key == "response_format" || key == "model" || engine::find_parameter(key)) continue;
    std::string list = "type";
    for (const auto& name : codec::parameter_names()) list += ", " + name;
    fail(field.empty() ? key : field + "." + key,
         "unknown field (expected " + list + ", response_format, model)");
  }
  json out = json::object();
  engine::GenerateRequest checked;
  for (const auto& p : engine::parameters()) {
    const auto it = b.find(p.name);
    if (it == b.end() || it->is_null()) continue;
    try {
      codec::read_parameter(p, *it, checked, field + "." + p.name);
    } catch (const codec::ParameterError& e) {
      fail(e.field(), e.problem());
    }
    // Numbers as written (0 stays 0); the rest as read (one stop string becomes a list).
    out[p.name] = p.kind == engine::ParamKind::Number ? *it : codec::parameter_json(p, checked);
  }
  if (const auto it = b.find("response_format"); it != b.end() && !it->is_null()) {
    const std::string where = field + ".response_format";
    if (!it->is_object()) fail(where, "must be an object {type: text | json_object | json_schema}");
    const std::string type = get_string(*it, "type", where, true);
    if (type == "json_schema") {
      const auto js = it->find("json_schema");
      if (js == it->end() || !js->is_object() || !js->contains("schema") || !(*js)["schema"].is_object())
        fail(where + ".json_schema", "must be an object with a 'schema' object");
    } else if (type != "text" && type != "json_object") {
      fail(where + ".type", "must be text, json_object or json_schema");
    }
    out["response_format"] = *it;
  }
  if (b.contains("model") && !b["model"].is_null()) {
    const std::string model = get_string(b, "model", field, false, 1024);
    if (model.empty() || !one_line(model)) fail(field + ".model", "must be a non-empty model name");
    out["model"] = model;
  }
  return out;
}

// ---- blocks -------------------------------------------------------------------

Block parse_block(const json& b, const std::string& field) {
  if (!b.is_object()) fail(field, std::string("must be an object, not ") + json_type_word(b));
  const std::string type = get_string(b, "type", field, true);
  Block block;
  if (type == "system" || type == "context" || type == "user") {
    block.type = type == "system"    ? BlockType::System
                 : type == "context" ? BlockType::Context
                                     : BlockType::User;
    only_keys(b, field, {"type", "text"});
    block.text = get_string(b, "text", field, true);
  } else if (type == "examples") {
    block.type = BlockType::Examples;
    only_keys(b, field, {"type", "pairs"});
    const auto it = b.find("pairs");
    if (it == b.end() || !it->is_array()) fail(field + ".pairs", "must be a list of {user, assistant}");
    if (it->empty()) fail(field + ".pairs", "needs at least one pair");
    if (it->size() > kMaxExamplePairs)
      fail(field + ".pairs", "has more than " + std::to_string(kMaxExamplePairs) + " pairs");
    for (size_t i = 0; i < it->size(); ++i) {
      const std::string where = field + ".pairs[" + std::to_string(i) + "]";
      const auto& p = (*it)[i];
      if (!p.is_object()) fail(where, "must be an object {user, assistant}");
      only_keys(p, where, {"user", "assistant"});
      block.pairs.push_back({get_string(p, "user", where, true), get_string(p, "assistant", where, true)});
    }
  } else if (type == "parameters") {
    block.type = BlockType::Parameters;
    block.params = parse_parameters(b, field);
  } else {
    fail(field + ".type", "unknown block type " + in_quotes(type) +
                              " (expected system, context, user, examples or parameters)");
  }
  return block;
}

// ---- variables ----------------------------------------------------------------

VariableType parse_variable_type(const std::string& s, const std::string& field) {
  if (s == "text") return VariableType::Text;
  if (s == "multiline") return VariableType::Multiline;
  if (s == "select") return VariableType::Select;
  if (s == "number") return VariableType::Number;
  if (s == "boolean") return VariableType::Boolean;
  fail(field,
       "unknown variable type " + in_quotes(s) + " (expected text, multiline, select, number or boolean)");
}

std::optional<double> get_bound(const json& v, const char* key, const std::string& field) {
  const auto it = v.find(key);
  if (it == v.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) fail(field + "." + key, "must be a number");
  return it->get<double>();
}

Variable parse_variable(const json& v, const std::string& field) {
  if (!v.is_object()) fail(field, std::string("must be an object, not ") + json_type_word(v));
  only_keys(v, field, {"name", "type", "label", "options", "min", "max", "step", "default", "required"});
  Variable var;
  var.name = get_string(v, "name", field, true, 64);
  if (!is_valid_variable_name(var.name))
    fail(field + ".name",
         in_quotes(var.name) +
             " is not a variable name (letters, digits and _, up to 64, not starting with a digit)");
  const std::string type = v.contains("type") ? get_string(v, "type", field, false) : "text";
  var.type = parse_variable_type(type, field + ".type");
  var.label = get_string(v, "label", field, false, kMaxNameLength);
  if (const auto it = v.find("options"); it != v.end() && !it->is_null()) {
    if (!it->is_array()) fail(field + ".options", "must be a list of strings");
    for (size_t i = 0; i < it->size(); ++i) {
      const auto& o = (*it)[i];
      const std::string where = field + ".options[" + std::to_string(i) + "]";
      if (!o.is_string()) fail(where, "must be a string");
      if (!utf8::is_valid(o.get<std::string>())) fail(where, "is not valid UTF-8");
      var.options.push_back(o.get<std::string>());
    }
  }
  var.min = get_bound(v, "min", field);
  var.max = get_bound(v, "max", field);
  var.step = get_bound(v, "step", field);
  if (const auto it = v.find("default"); it != v.end()) var.default_value = *it;
  if (const auto it = v.find("required"); it != v.end() && !it->is_null()) {
    if (!it->is_boolean()) fail(field + ".required", "must be true or false");
    var.required = it->get<bool>();
  }
  return var;
}

// A default's type and range, as a value given for it would be checked.
void check_default(const Variable& v, const std::string& field) {
  const json& d = v.default_value;
  if (d.is_null()) return;
  switch (v.type) {
    case VariableType::Text:
    case VariableType::Multiline:
      if (!d.is_string())
        fail(field, "must be a string for a " + std::string(variable_type_name(v.type)) + " variable");
      if (!utf8::is_valid(d.get<std::string>())) fail(field, "is not valid UTF-8");
      if (v.type == VariableType::Text && !one_line(d.get<std::string>()))
        fail(field, "must be one line for a text variable (use multiline)");
      break;
    case VariableType::Select:
      if (!d.is_string() ||
          std::find(v.options.begin(), v.options.end(), d.get<std::string>()) == v.options.end())
        fail(field, "must be one of the options");
      break;
    case VariableType::Number: {
      if (!d.is_number()) fail(field, "must be a number");
      const double x = d.get<double>();
      if ((v.min && x < *v.min) || (v.max && x > *v.max)) fail(field, "is outside min..max");
      break;
    }
    case VariableType::Boolean:
      if (!d.is_boolean()) fail(field, "must be true or false");
      break;
  }
}

}  // namespace

const char* block_type_name(BlockType t) {
  switch (t) {
    case BlockType::System: return "system";
    case BlockType::Context: return "context";
    case BlockType::User: return "user";
    case BlockType::Examples: return "examples";
    case BlockType::Parameters: return "parameters";
  }
  return "?";
}

const char* variable_type_name(VariableType t) {
  switch (t) {
    case VariableType::Text: return "text";
    case VariableType::Multiline: return "multiline";
    case VariableType::Select: return "select";
    case VariableType::Number: return "number";
    case VariableType::Boolean: return "boolean";
  }
  return "?";
}

const Variable* Template::find_variable(const std::string& n) const {
  for (const auto& v : variables) {
    if (v.name == n) return &v;
  }
  return nullptr;
}

bool is_valid_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!ok(id[0])) return false;
  return std::all_of(id.begin(), id.end(), [&](char c) { return ok(c) || c == '-'; });
}

bool is_valid_variable_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

std::string id_from_name(const std::string& name) {
  std::string id;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      if (id.size() >= 64) break;
      id += c;
    } else if (!id.empty() && id.back() != '-') {
      if (id.size() >= 63) break;
      id += '-';
    }
  }
  while (!id.empty() && id.back() == '-') id.pop_back();
  return id.empty() ? "template" : id;
}

std::vector<std::string> placeholders(const std::string& text, const std::string& field) {
  std::vector<std::string> names;
  scan_placeholders(
      text, field, [](std::string_view) {}, [&](const std::string& n) { names.push_back(n); });
  return names;
}

void validate(const Template& t, bool require_id) {
  if (require_id || !t.id.empty()) {
    if (!is_valid_id(t.id))
      fail("id", in_quotes(t.id) +
                     " is not a template id (a-z, 0-9 and -, up to 64, starting with a letter or digit)");
  }
  if (t.name.empty()) fail("name", "is required");
  if (t.name.size() > kMaxNameLength)
    fail("name", "is longer than " + std::to_string(kMaxNameLength) + " bytes");
  if (!one_line(t.name)) fail("name", "must be one line");
  for (const auto* s : {&t.name, &t.description}) {
    if (!utf8::is_valid(*s)) fail(s == &t.name ? "name" : "description", "is not valid UTF-8");
  }
  if (!utf8::is_valid(t.message)) fail("message", "is not valid UTF-8");
  if (t.message.size() > kMaxMessageLength)
    fail("message", "is longer than " + std::to_string(kMaxMessageLength) + " bytes");
  if (t.tags.size() > kMaxTags) fail("tags", "has more than " + std::to_string(kMaxTags) + " tags");
  for (size_t i = 0; i < t.tags.size(); ++i) {
    const auto& tag = t.tags[i];
    const std::string where = "tags[" + std::to_string(i) + "]";
    if (tag.empty() || tag.size() > kMaxTagLength || !one_line(tag))
      fail(where, "must be one line of 1 to " + std::to_string(kMaxTagLength) + " bytes");
    if (!utf8::is_valid(tag)) fail(where, "is not valid UTF-8");
  }
  if (t.blocks.size() > kMaxBlocks) fail("blocks", "has more than " + std::to_string(kMaxBlocks) + " blocks");
  if (t.variables.size() > kMaxVariables)
    fail("variables", "has more than " + std::to_string(kMaxVariables) + " variables");

  // Variables: unique names, consistent type fields, defaults of the right type.
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < t.variables.size(); ++i) {
    const auto& v = t.variables[i];
    const std::string field = "variables[" + std::to_string(i) + "]";
    if (!is_valid_variable_name(v.name))
      fail(field + ".name",
           in_quotes(v.name) +
               " is not a variable name (letters, digits and _, up to 64, not starting with a digit)");
    if (!index.emplace(v.name, i).second)
      fail(field + ".name", "variable " + in_quotes(v.name) + " is defined twice");
    if (!utf8::is_valid(v.label)) fail(field + ".label", "is not valid UTF-8");
    if (v.type == VariableType::Select) {
      if (v.options.empty()) fail(field + ".options", "a select variable needs at least one option");
      if (v.options.size() > kMaxOptions)
        fail(field + ".options", "has more than " + std::to_string(kMaxOptions) + " options");
      std::set<std::string> seen;
      for (size_t k = 0; k < v.options.size(); ++k) {
        if (!seen.insert(v.options[k]).second)
          fail(field + ".options[" + std::to_string(k) + "]",
               "option " + in_quotes(v.options[k]) + " is listed twice");
      }
    } else if (!v.options.empty()) {
      fail(field + ".options", "only select variables have options");
    }
    if (v.type == VariableType::Number) {
      for (const auto& b : {v.min, v.max}) {
        if (b && !std::isfinite(*b)) fail(field + (b == v.min ? ".min" : ".max"), "must be a finite number");
      }
      if (v.min && v.max && *v.min > *v.max) fail(field + ".min", "is greater than max");
      if (v.step && (!std::isfinite(*v.step) || *v.step <= 0))
        fail(field + ".step", "must be a number above 0");
    } else if (v.min || v.max) {
      fail(field + (v.min ? ".min" : ".max"), "only number variables have a range");
    } else if (v.step) {
      fail(field + ".step", "only number variables have a step");
    }
    check_default(v, field + ".default");
  }

  // Options are literal; defaults of text variables may refer to other variables,
  // but never to themselves, directly or through a cycle.
  std::map<std::string, std::vector<std::string>> refs;
  for (size_t i = 0; i < t.variables.size(); ++i) {
    const auto& v = t.variables[i];
    const std::string field = "variables[" + std::to_string(i) + "]";
    for (size_t k = 0; k < v.options.size(); ++k) {
      const std::string where = field + ".options[" + std::to_string(k) + "]";
      for (const auto& n : placeholders(v.options[k], where)) {
        if (n == v.name) fail(where, "variable " + in_quotes(v.name) + " refers to itself in its options");
        fail(where, "options are literal text and may not use {{" + n + "}}");
      }
    }
    if (v.default_value.is_string()) {
      const std::string where = field + ".default";
      for (const auto& n : placeholders(v.default_value.get<std::string>(), where)) {
        if (n == v.name) fail(where, "variable " + in_quotes(v.name) + " refers to itself in its default");
        if (!index.count(n)) fail(where, "{{" + n + "}} is not a defined variable");
        if (v.type == VariableType::Select) fail(where, "a select default may not use {{" + n + "}}");
        refs[v.name].push_back(n);
      }
    }
  }
  // Depth-first search for a cycle among default references.
  std::map<std::string, int> state;  // 0 unseen, 1 on the path, 2 done
  std::vector<std::string> path;
  std::function<void(const std::string&)> visit = [&](const std::string& n) {
    state[n] = 1;
    path.push_back(n);
    for (const auto& m : refs[n]) {
      if (state[m] == 1) {
        std::string cycle;
        for (auto it = std::find(path.begin(), path.end(), m); it != path.end(); ++it) cycle += *it + " -> ";
        fail("variables[" + std::to_string(index[m]) + "].default",
             "variable defaults refer to each other in a cycle: " + cycle + m);
      }
      if (state[m] == 0) visit(m);
    }
    path.pop_back();
    state[n] = 2;
  };
  for (const auto& v : t.variables) {
    if (state[v.name] == 0) visit(v.name);
  }

  // Blocks: every placeholder names a defined variable; one parameters block at most.
  bool has_params = false;
  for (size_t i = 0; i < t.blocks.size(); ++i) {
    const auto& b = t.blocks[i];
    const std::string field = "blocks[" + std::to_string(i) + "]";
    auto check_text = [&](const std::string& text, const std::string& where) {
      for (const auto& n : placeholders(text, where)) {
        if (!index.count(n))
          fail(where, "{{" + n + "}} in block " + std::to_string(i) + " is not a defined variable");
      }
    };
    switch (b.type) {
      case BlockType::System:
      case BlockType::Context:
      case BlockType::User: check_text(b.text, field + ".text"); break;
      case BlockType::Examples:
        if (b.pairs.empty()) fail(field + ".pairs", "needs at least one pair");
        for (size_t k = 0; k < b.pairs.size(); ++k) {
          const std::string where = field + ".pairs[" + std::to_string(k) + "]";
          check_text(b.pairs[k].user, where + ".user");
          check_text(b.pairs[k].assistant, where + ".assistant");
        }
        break;
      case BlockType::Parameters:
        if (has_params) fail(field, "a template has at most one parameters block");
        has_params = true;
        break;
    }
  }
}

Template parse_template(const json& j, bool require_id) {
  if (!j.is_object()) fail("", std::string("a template must be a JSON object, not ") + json_type_word(j));
  only_keys(j, "",
            {"id", "name", "description", "tags", "version", "blocks", "variables", "message", "created_at"});
  Template t;
  t.id = get_string(j, "id", "", false, 64);
  t.name = get_string(j, "name", "", true, kMaxNameLength);
  t.description = get_string(j, "description", "", false);
  t.message = get_string(j, "message", "", false, kMaxMessageLength);
  if (const auto it = j.find("tags"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) fail("tags", "must be a list of strings");
    if (it->size() > kMaxTags) fail("tags", "has more than " + std::to_string(kMaxTags) + " tags");
    for (size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) fail("tags[" + std::to_string(i) + "]", "must be a string");
      t.tags.push_back((*it)[i].get<std::string>());
    }
  }
  if (const auto it = j.find("version"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > INT32_MAX)
      fail("version", "must be a positive integer");
    t.version = it->get<int>();
  }
  const auto blocks = j.find("blocks");
  if (blocks == j.end() || !blocks->is_array()) fail("blocks", "must be a list of blocks");
  if (blocks->size() > kMaxBlocks) fail("blocks", "has more than " + std::to_string(kMaxBlocks) + " blocks");
  for (size_t i = 0; i < blocks->size(); ++i)
    t.blocks.push_back(parse_block((*blocks)[i], "blocks[" + std::to_string(i) + "]"));
  if (const auto vars = j.find("variables"); vars != j.end() && !vars->is_null()) {
    if (!vars->is_array()) fail("variables", "must be a list of variables");
    if (vars->size() > kMaxVariables)
      fail("variables", "has more than " + std::to_string(kMaxVariables) + " variables");
    for (size_t i = 0; i < vars->size(); ++i)
      t.variables.push_back(parse_variable((*vars)[i], "variables[" + std::to_string(i) + "]"));
  }
  validate(t, require_id);
  // The whole template is bounded too (a caller may hand in a json built in code).
  if (to_json(t).dump().size() > kMaxTemplateBytes)
    fail("", "the template is larger than " + std::to_string(kMaxTemplateBytes / 1024) + " KiB");
  return t;
}

Template parse_template_text(const std::string& text, bool require_id) {
  if (text.size() > kMaxTemplateBytes)
    fail("", "the template is larger than " + std::to_string(kMaxTemplateBytes / 1024) + " KiB");
  if (!utf8::is_valid(text)) fail("", "the template is not valid UTF-8");
  json j;
  try {
    // Bounded before nlohmann builds a value: copying or dumping a deeper one recurses past the stack.
    j = parse_json_bounded<json>(text, "the template");
  } catch (const Error& e) {
    fail("", e.what());
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number too large for a double (1e400): both are the file's.
    fail("", std::string("the template is not valid JSON: ") + e.what());
  }
  return parse_template(j, require_id);
}

json to_json(const Block& b) {
  json j = {{"type", block_type_name(b.type)}};
  switch (b.type) {
    case BlockType::System:
    case BlockType::Context:
    case BlockType::User: j["text"] = b.text; break;
    case BlockType::Examples: {
      json pairs = json::array();
      for (const auto& p : b.pairs) pairs.push_back({{"user", p.user}, {"assistant", p.assistant}});
      j["pairs"] = std::move(pairs);
      break;
    }
    case BlockType::Parameters:
      for (const auto& [k, v] : b.params.items()) j[k] = v;
      break;
  }
  return j;
}

json to_json(const Variable& v) {
  json j = {{"name", v.name},
            {"type", variable_type_name(v.type)},
            {"label", v.label},
            {"required", v.required},
            {"default", v.default_value}};
  if (v.type == VariableType::Select) j["options"] = v.options;
  // Whole bounds go out as integers, as people write them.
  auto bound = [](double x) {
    return std::floor(x) == x && std::fabs(x) < 9e15 ? json(static_cast<int64_t>(x)) : json(x);
  };
  if (v.min) j["min"] = bound(*v.min);
  if (v.max) j["max"] = bound(*v.max);
  if (v.step) j["step"] = bound(*v.step);
  return j;
}

json to_json(const Template& t) {
  json blocks = json::array();
  for (const auto& b : t.blocks) blocks.push_back(to_json(b));
  json vars = json::array();
  for (const auto& v : t.variables) vars.push_back(to_json(v));
  json j = {{"id", t.id},
            {"name", t.name},
            {"description", t.description},
            {"tags", t.tags},
            {"version", t.version},
            {"blocks", std::move(blocks)},
            {"variables", std::move(vars)}};
  if (!t.message.empty()) j["message"] = t.message;
  return j;
}

}  // namespace rmm::prompts
