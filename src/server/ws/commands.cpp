#include "server/ws/commands.hpp"

#include <cmath>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "codec/parameters_json.hpp"
#include "core/json_limits.hpp"
#include "core/utf8.hpp"
#include "server/api_error.hpp"
#include "server/openai/request.hpp"

namespace rmm::server::ws {
namespace {

using json = nlohmann::json;

// Errors while reading one message carry its id (when known) and name the field.
struct Reader {
  std::string id;
  [[noreturn]] void bad(const std::string& message) const {
    throw ProtocolError("invalid_request", message, id);
  }

  void only(const json& obj, std::initializer_list<const char*> known, const std::string& where) const {
    for (const auto& [key, _] : obj.items()) {
      bool ok = false;
      for (const char* k : known) ok = ok || key == k;
      if (ok) continue;
      std::string list;
      for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
      bad("unknown field '" + key + "' in " + where + " (known: " + list + ")");
    }
  }

  std::string id_field(const json& msg, bool required) {
    const auto it = msg.find("id");
    if (it == msg.end() || it->is_null()) {
      if (required) bad("'id' is required: a string naming the generation");
      return "";
    }
    if (!it->is_string()) bad("'id' must be a string");
    std::string v = it->get<std::string>();
    if (v.empty()) bad("'id' must not be empty");
    if (v.size() > kMaxIdBytes) bad("'id' is longer than " + std::to_string(kMaxIdBytes) + " bytes");
    id = v;
    return v;
  }

  int64_t integer(const json& v, const std::string& name, int64_t lo, int64_t hi) const {
    const bool integral =
        v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
    if (!integral) bad("'" + name + "' must be an integer");
    const double d = v.get<double>();
    // Unsigned values above INT64_MAX would wrap in get<int64_t>; compare as doubles first.
    if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
      bad("'" + name + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return v.is_number_unsigned() ? static_cast<int64_t>(v.get<uint64_t>()) : v.get<int64_t>();
  }
};

// rmm run's defaults (the request's own); the types, ranges and messages are
// the parameter table's (engine/parameters.hpp), and every key must be in it.
void read_params(Reader& r, const json& params, engine::GenerateRequest& req) {
  if (!params.is_object()) r.bad("'params' must be an object");
  for (const auto& [key, _] : params.items()) {
    if (engine::find_parameter(key)) continue;
    std::string list;
    for (const auto& name : codec::parameter_names()) list += (list.empty() ? "" : ", ") + name;
    r.bad("unknown field '" + key + "' in 'params' (known: " + list + ")");
  }
  try {
    codec::read_parameters(params, req, "params.");
  } catch (const codec::ParameterError& e) {
    r.bad(e.what());
  }
}

GenerateCommand read_generate(Reader& r, const json& msg) {
  GenerateCommand g;
  g.id = r.id_field(msg, true);
  r.only(msg,
         {"type", "id", "messages", "prompt", "params", "alternatives", "model", "cache", "continue_from"},
         "a generate message");
  if (const auto it = msg.find("cache"); it != msg.end() && !it->is_null()) {
    if (!it->is_boolean()) r.bad("'cache' must be true or false");
    g.cache = it->get<bool>();
  }
  if (const auto it = msg.find("model"); it != msg.end() && !it->is_null()) {
    if (!it->is_string()) r.bad("'model' must be a string");
    g.model = it->get<std::string>();
  }
  const bool has_messages = msg.contains("messages") && !msg["messages"].is_null();
  const bool has_prompt = msg.contains("prompt") && !msg["prompt"].is_null();
  if (has_messages && has_prompt) r.bad("give either 'messages' or 'prompt', not both");
  if (!has_messages && !has_prompt)
    r.bad("a generate message needs 'messages' (a list of {role, content}) or 'prompt' (a string)");
  if (has_messages) {
    g.chat = true;
    try {
      g.messages = openai::parse_messages(msg);
    } catch (const ApiError& e) {
      r.bad(e.what());
    }
  } else {
    if (!msg["prompt"].is_string()) r.bad("'prompt' must be a string");
    g.prompt = msg["prompt"].get<std::string>();
    if (g.prompt.empty()) r.bad("'prompt' must not be empty");
  }
  if (const auto it = msg.find("params"); it != msg.end() && !it->is_null()) read_params(r, *it, g.request);
  // The vocabulary is the model's, not known yet: the engine checks the ids against it.
  if (const auto it = msg.find("continue_from"); it != msg.end()) {
    try {
      g.request.continue_from = codec::read_continue_from(*it, 0);
    } catch (const codec::ParameterError& e) {
      r.bad(e.what());
    }
  }
  int alternatives = 0;
  if (const auto it = msg.find("alternatives"); it != msg.end() && !it->is_null())
    alternatives = static_cast<int>(r.integer(*it, "alternatives", 0, kMaxAlternatives));
  // The stream always carries log-probabilities: they are what it is for.
  g.request.logprobs = true;
  g.request.top_logprobs = alternatives;
  return g;
}

}  // namespace

Command parse_command(std::string_view text) {
  json msg;
  try {
    // Bounded before nlohmann builds a value: copying or dumping a deeper one recurses past the stack.
    msg = parse_json_bounded<json>(text, "the message");
  } catch (const Error& e) {
    throw ProtocolError("invalid_request", e.what());
  } catch (const json::parse_error& e) {
    throw ProtocolError("invalid_request",
                        "the message is not valid JSON (error at byte " + std::to_string(e.byte) + ")");
  } catch (const json::exception& e) {
    // out_of_range: a number too large for a double (1e400) is the client's too, not a server error.
    throw ProtocolError("invalid_request", std::string("the message is not valid JSON: ") + e.what());
  }
  if (!msg.is_object()) throw ProtocolError("invalid_request", "the message must be a JSON object");
  Reader r;
  // The id first, so that later errors can carry it (a bad id is simply left out).
  if (const auto it = msg.find("id"); it != msg.end() && it->is_string() && !it->get<std::string>().empty() &&
                                      it->get<std::string>().size() <= kMaxIdBytes)
    r.id = it->get<std::string>();
  const auto type_it = msg.find("type");
  if (type_it == msg.end() || !type_it->is_string())
    r.bad("'type' is required: one of load, generate, stop, pause, resume");
  const std::string type = type_it->get<std::string>();
  if (type == "generate") return read_generate(r, msg);
  if (type == "load") {
    LoadCommand l;
    l.id = r.id_field(msg, false);
    r.only(msg, {"type", "model", "id", "num_ctx"}, "a load message");
    const auto it = msg.find("model");
    if (it == msg.end() || !it->is_string() || it->get<std::string>().empty())
      r.bad("'model' is required: a .gguf path or a model name in the models directory");
    l.model = it->get<std::string>();
    if (const auto n = msg.find("num_ctx"); n != msg.end() && !n->is_null()) {
      if (!n->is_number_integer() || n->get<int64_t>() < 1 || n->get<int64_t>() > (1 << 24))
        r.bad("'num_ctx' must be a whole number of tokens from 1 to 16777216");
      l.num_ctx = n->get<int>();
    }
    return l;
  }
  ControlCommand c{};
  if (type == "stop") {
    c.kind = ControlCommand::Kind::Stop;
  } else if (type == "pause") {
    c.kind = ControlCommand::Kind::Pause;
  } else if (type == "resume") {
    c.kind = ControlCommand::Kind::Resume;
  } else {
    r.bad("unknown message type '" + type + "' (known: load, generate, stop, pause, resume)");
  }
  c.id = r.id_field(msg, true);
  r.only(msg, {"type", "id"}, "a " + type + " message");
  return c;
}

}  // namespace rmm::server::ws
