#include "codec/parameters_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace rmm::codec {
namespace {

using json = nlohmann::json;
using engine::ParamKind;

// A JSON number as a double, or what is wrong with it.
double number_of(const engine::ParamSpec& p, const json& v, const std::string& name) {
  const char* type_problem = p.kind == ParamKind::Integer ? "must be an integer" : "must be a number";
  if (!v.is_number()) throw ParameterError(name, name, type_problem);
  // An unsigned value above INT64_MAX would wrap as int64_t: as a double it is only out of range.
  return v.is_number_unsigned()  ? static_cast<double>(v.get<uint64_t>())
         : v.is_number_integer() ? static_cast<double>(v.get<int64_t>())
                                 : v.get<double>();
}

}  // namespace

void read_parameter(const engine::ParamSpec& p, const json& v, engine::GenerateRequest& into,
                    const std::string& name) {
  if (v.is_null()) return;  // null means "the default", as in JSON APIs generally
  switch (p.kind) {
    case ParamKind::Boolean:
      if (!v.is_boolean()) throw ParameterError(name, name, "must be true or false");
      engine::set_scalar(p, into, v.get<bool>() ? 1 : 0);
      return;
    case ParamKind::Number:
    case ParamKind::Integer: {
      const double d = number_of(p, v, name);
      const std::string problem = engine::range_problem(p, d);
      if (!problem.empty()) throw ParameterError(name, name, problem);
      engine::set_scalar(p, into, d);
      return;
    }
    case ParamKind::Strings: {
      const char* shape = "must be a string or a list of strings";
      std::vector<std::string> out;
      if (v.is_string()) {
        out.push_back(v.get<std::string>());
      } else if (v.is_array()) {
        for (size_t i = 0; i < v.size(); ++i) {
          if (!v[i].is_string()) throw ParameterError(name, name + "[" + std::to_string(i) + "]", shape);
          out.push_back(v[i].get<std::string>());
        }
      } else {
        throw ParameterError(name, name, shape);
      }
      const std::string problem = engine::strings_problem(p, out);
      if (!problem.empty()) throw ParameterError(name, name, problem);
      visit_member(p, into, [&](auto& m) {
        if constexpr (std::is_same_v<std::decay_t<decltype(m)>, std::vector<std::string>>) m = std::move(out);
      });
      return;
    }
  }
}

void read_parameters(const json& obj, engine::GenerateRequest& into, const std::string& prefix) {
  for (const auto& p : engine::parameters()) {
    if (const auto it = obj.find(p.name); it != obj.end()) read_parameter(p, *it, into, prefix + p.name);
  }
}

std::vector<engine::Token> read_continue_from(const json& v, int n_vocab, const std::string& name) {
  if (v.is_null()) return {};
  const char* shape = "must be an object {\"tokens\": [token id, ...]}";
  if (!v.is_object()) throw ParameterError(name, name, shape);
  for (const auto& [key, _] : v.items()) {
    if (key != "tokens")
      throw ParameterError(name, name, "has an unknown field '" + key + "' (known: tokens)");
  }
  const auto it = v.find("tokens");
  const std::string list = name + ".tokens";
  if (it == v.end() || it->is_null()) throw ParameterError(list, list, "is required: a list of token ids");
  if (!it->is_array()) throw ParameterError(list, list, "must be a list of token ids");
  if (it->size() > kMaxContinueFromTokens)
    throw ParameterError(
        list, list,
        "has " + std::to_string(it->size()) + " tokens, more than " + std::to_string(kMaxContinueFromTokens));
  std::vector<engine::Token> out;
  out.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const json& t = (*it)[i];
    const std::string at = name + ".tokens[" + std::to_string(i) + "]";
    const bool whole = t.is_number_integer() || (t.is_number_float() && std::isfinite(t.get<double>()) &&
                                                 std::floor(t.get<double>()) == t.get<double>());
    if (!whole) throw ParameterError(at, at, "must be a token id (a whole number)");
    // As a double first: an unsigned value above INT64_MAX would wrap.
    const double d = t.is_number_unsigned() ? static_cast<double>(t.get<uint64_t>()) : t.get<double>();
    const double hi = n_vocab > 0 ? n_vocab - 1.0 : 2147483647.0;
    if (d < 0 || d > hi) {
      const std::string id = t.is_number_unsigned()  ? std::to_string(t.get<uint64_t>())
                             : t.is_number_integer() ? std::to_string(t.get<int64_t>())
                                                     : t.dump();
      throw ParameterError(at, at,
                           n_vocab > 0
                               ? "is " + id + ", outside the vocabulary (ids 0 to " +
                                     std::to_string(n_vocab - 1) + ", " + std::to_string(n_vocab) + " tokens)"
                               : "is " + id + ", not a token id (0 or more)");
    }
    out.push_back(static_cast<engine::Token>(d));
  }
  return out;
}

json parameter_json(const engine::ParamSpec& p, const engine::GenerateRequest& r) {
  switch (p.kind) {
    case ParamKind::Boolean: return engine::scalar_value(p, r) != 0;
    case ParamKind::Integer: return static_cast<int64_t>(engine::scalar_value(p, r));
    case ParamKind::Strings: return engine::strings_value(p, r);
    case ParamKind::Number: break;
  }
  // The float's shortest spelling, read back as a double: 0.7f goes out as 0.7.
  const auto f = static_cast<float>(engine::scalar_value(p, r));
  char buf[64];
  const auto end = std::to_chars(buf, buf + sizeof buf, f).ptr;
  return std::strtod(std::string(buf, end).c_str(), nullptr);
}

json parameters_json(const engine::GenerateRequest& r, const json* only) {
  json out = json::object();
  for (const auto& p : engine::parameters()) {
    if (only) {
      const auto it = only->find(p.name);
      if (it == only->end() || it->is_null()) continue;
    }
    out[p.name] = parameter_json(p, r);
  }
  return out;
}

nlohmann::json parameter_table_json() {
  static const char* const kinds[] = {"number", "integer", "boolean", "strings"};
  const engine::GenerateRequest engine_defaults;
  const engine::GenerateRequest openai = engine::openai_defaults();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : engine::parameters()) {
    nlohmann::json j = {{"name", p.name},
                        {"type", kinds[static_cast<int>(p.kind)]},
                        {"default", parameter_json(p, engine_defaults)},
                        {"openai_default", parameter_json(p, openai)},
                        {"help", p.help}};
    if (p.kind != engine::ParamKind::Boolean) {
      if (p.kind != engine::ParamKind::Strings) j["min"] = p.min;
      j["max"] = p.max;
    }
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<std::string> parameter_names() {
  std::vector<std::string> names;
  for (const auto& p : engine::parameters()) names.emplace_back(p.name);
  return names;
}

}  // namespace rmm::codec
