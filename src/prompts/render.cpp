#include "prompts/render.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>

#include "core/utf8.hpp"
#include "prompts/placeholder.hpp"

namespace rmm::prompts {
namespace {

using json = nlohmann::json;

std::string field_for(const std::string& name) { return "values." + name; }

// 5 rather than 5.0 for whole numbers.
std::string number_text(double x) {
  return std::floor(x) == x && std::fabs(x) < 9e15 ? std::to_string(static_cast<int64_t>(x)) : json(x).dump();
}

// The text a checked value stands for.
std::string value_text(const Variable& v, const json& value) {
  const std::string field = field_for(v.name);
  auto fail = [&](const std::string& m) -> std::string {
    throw TemplateError(field, "variable '" + v.name + "' " + m);
  };
  switch (v.type) {
    case VariableType::Text:
    case VariableType::Multiline: {
      if (!value.is_string()) return fail("must be a string");
      const auto s = value.get<std::string>();
      if (!utf8::is_valid(s)) return fail("is not valid UTF-8");
      if (s.size() > kMaxTemplateBytes)
        return fail("is longer than " + std::to_string(kMaxTemplateBytes) + " bytes");
      if (v.type == VariableType::Text && s.find_first_of("\r\n") != std::string::npos)
        return fail("must be one line of text");
      if (v.required && s.empty()) return fail("is required and may not be empty");
      return s;
    }
    case VariableType::Select: {
      if (!value.is_string()) return fail("must be a string, one of the options");
      const auto s = value.get<std::string>();
      if (std::find(v.options.begin(), v.options.end(), s) == v.options.end()) {
        std::string list;
        for (const auto& o : v.options) list += (list.empty() ? "" : ", ") + json(o).dump();
        std::string shown = s.substr(0, 80);
        shown.resize(utf8::complete_prefix_length(shown));
        return fail("must be one of " + list + " (got " + json(utf8::sanitize(shown)).dump() + ")");
      }
      return s;
    }
    case VariableType::Number: {
      if (!value.is_number()) return fail("must be a number");
      const double x = value.get<double>();
      if ((v.min && x < *v.min) || (v.max && x > *v.max)) {
        const std::string lo = v.min ? number_text(*v.min) : "-inf", hi = v.max ? number_text(*v.max) : "inf";
        return fail("must be between " + lo + " and " + hi + " (got " + value.dump() + ")");
      }
      return value.dump();
    }
    case VariableType::Boolean:
      if (!value.is_boolean()) return fail("must be true or false");
      return value.get<bool>() ? "true" : "false";
  }
  return "";
}

class Resolver {
 public:
  Resolver(const Template& t, const json& values) : t_(t), values_(values) {}

  const std::string& get(const std::string& name) {
    if (auto it = done_.find(name); it != done_.end()) return it->second;
    const Variable* v = t_.find_variable(name);
    if (!v) throw TemplateError(field_for(name), "'" + name + "' is not a variable of this template");
    std::string text;
    if (auto it = values_.find(name); it != values_.end() && !it->is_null()) {
      text = value_text(*v, *it);
    } else if (!v->default_value.is_null()) {
      text = value_text(*v, v->default_value);
      // A text default may use other variables (validation ruled out cycles).
      if (v->default_value.is_string() && v->type != VariableType::Select) {
        std::string expanded;
        scan_placeholders(
            text, "variables." + name + ".default", [&](std::string_view s) { expanded += s; },
            [&](const std::string& n) { expanded += get(n); });
        text = std::move(expanded);
      }
    } else if (v->required) {
      throw TemplateError(field_for(name), "variable '" + name + "' is required and has no default");
    } else {
      text = v->type == VariableType::Boolean ? "false" : "";
    }
    return done_.emplace(name, std::move(text)).first->second;
  }

  std::string substitute(const std::string& text, const std::string& field) {
    std::string out;
    scan_placeholders(
        text, field, [&](std::string_view s) { out += s; }, [&](const std::string& n) { out += get(n); });
    return out;
  }

 private:
  const Template& t_;
  const json& values_;
  std::map<std::string, std::string> done_;
};

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

}  // namespace

Rendered render(const Template& t, const json& values) {
  if (!values.is_null() && !values.is_object())
    throw TemplateError("values", "must be an object {name: value}");
  const json vals = values.is_null() ? json::object() : values;
  std::string unknown;
  for (const auto& [k, _] : vals.items()) {
    if (!t.find_variable(k)) unknown += (unknown.empty() ? "" : ", ") + json(utf8::sanitize(k)).dump();
  }
  if (!unknown.empty())
    throw TemplateError("values", "no variable named " + unknown + " in this template" +
                                      (t.id.empty() ? "" : " ('" + t.id + "')"));

  Resolver r(t, vals);
  // Every variable is checked, used or not, so a bad value never passes silently.
  for (const auto& v : t.variables) r.get(v.name);

  Rendered out;
  auto add = [&](const char* role, std::string content) {
    if (blank(content)) return;
    content.erase(content.find_last_not_of(" \t\r\n") + 1);
    if (!out.messages.empty() && out.messages.back()["role"] == role) {
      out.messages.back()["content"] = out.messages.back()["content"].get<std::string>() + "\n\n" + content;
    } else {
      out.messages.push_back({{"role", role}, {"content", std::move(content)}});
    }
  };
  for (size_t i = 0; i < t.blocks.size(); ++i) {
    const auto& b = t.blocks[i];
    const std::string field = "blocks[" + std::to_string(i) + "]";
    switch (b.type) {
      case BlockType::System: add("system", r.substitute(b.text, field + ".text")); break;
      case BlockType::Context: {
        // Optional context: a block whose optional variables all came out empty says nothing.
        std::vector<std::string> optional;
        for (const auto& n : placeholders(b.text, field + ".text")) {
          if (!t.find_variable(n)->required) optional.push_back(n);
        }
        if (!optional.empty() && std::all_of(optional.begin(), optional.end(),
                                             [&](const std::string& n) { return blank(r.get(n)); }))
          break;
        add("user", r.substitute(b.text, field + ".text"));
        break;
      }
      case BlockType::User: add("user", r.substitute(b.text, field + ".text")); break;
      case BlockType::Examples:
        for (size_t k = 0; k < b.pairs.size(); ++k) {
          const std::string where = field + ".pairs[" + std::to_string(k) + "]";
          add("user", r.substitute(b.pairs[k].user, where + ".user"));
          add("assistant", r.substitute(b.pairs[k].assistant, where + ".assistant"));
        }
        break;
      case BlockType::Parameters: out.params = b.params; break;
    }
  }
  if (out.messages.empty())
    throw TemplateError("blocks", "the template renders no messages with these values");
  return out;
}

json to_json(const Rendered& r) { return {{"messages", r.messages}, {"params", r.params}}; }

json chat_request(const Rendered& r) {
  json body = r.params;
  body["messages"] = r.messages;
  return body;
}

json value_from_string(const Variable& v, const std::string& text) {
  switch (v.type) {
    case VariableType::Number: {
      errno = 0;
      char* end = nullptr;
      const double x = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(x))
        throw TemplateError(field_for(v.name), "variable '" + v.name + "' must be a number (got '" +
                                                   utf8::sanitize(text) + "')");
      if (std::floor(x) == x && std::fabs(x) < 9e15) return static_cast<int64_t>(x);
      return x;
    }
    case VariableType::Boolean:
      if (text == "true" || text == "yes" || text == "1") return true;
      if (text == "false" || text == "no" || text == "0") return false;
      throw TemplateError(field_for(v.name), "variable '" + v.name + "' must be true or false (got '" +
                                                 utf8::sanitize(text) + "')");
    default: return text;
  }
}

}  // namespace rmm::prompts
