#include "server/openai/request.hpp"

#include <cmath>

#include "codec/parameters_json.hpp"
#include "core/json_limits.hpp"
#include "core/utf8.hpp"
#include "server/api_error.hpp"

namespace rmm::server::openai {
namespace {

using json = nlohmann::json;
using http::status;

[[noreturn]] void bad(const std::string& param, const std::string& message) {
  throw ApiError(status::bad_request, message, param);
}

const json* field(const json& body, const char* name) {
  const auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

int64_t integer(const json& body, const char* name, int64_t lo, int64_t hi, int64_t fallback) {
  const json* v = field(body, name);
  if (!v) return fallback;
  if (!v->is_number_integer() && !(v->is_number_float() && std::floor(v->get<double>()) == v->get<double>()))
    bad(name, std::string("'") + name + "' must be an integer");
  const double d = v->get<double>();
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
    bad(name,
        std::string("'") + name + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return static_cast<int64_t>(d);
}

bool boolean(const json& body, const char* name, bool fallback) {
  const json* v = field(body, name);
  if (!v) return fallback;
  if (!v->is_boolean()) bad(name, std::string("'") + name + "' must be true or false");
  return v->get<bool>();
}

}  // namespace

json parse_body(const Exchange& ex) {
  const auto& req = ex.request();
  const auto ct = req.find(http::field::content_type);
  const std::string type = ct == req.end() ? "" : std::string(ct->value());
  if (type.rfind("application/json", 0) != 0) {
    throw ApiError(status::unsupported_media_type,
                   "Content-Type must be application/json (got '" + type + "')", "", "invalid_request_error");
  }
  return parse_body_text(req.body());
}

json parse_body_text(std::string_view text) {
  if (!utf8::is_valid(text)) bad("", "the request body is not valid UTF-8");
  json body;
  try {
    // Bounded before nlohmann builds a value: copying or dumping a deeper one recurses past the stack.
    body = parse_json_bounded<json>(text, "the request body", false);
  } catch (const Error& e) {
    bad("", e.what());
  }
  if (body.is_discarded()) bad("", "the request body is not valid JSON");
  if (!body.is_object()) bad("", "the request body must be a JSON object");
  return body;
}

ParsedRequest parse_common(const json& body, int n_vocab) {
  ParsedRequest r;
  if (const json* m = field(body, "model")) {
    if (!m->is_string()) bad("model", "'model' must be a string");
    r.model = m->get<std::string>();
  }
  // OpenAI's defaults (temperature 1, top_p 1, no top-k / min-p); the
  // types, ranges and messages are the parameter table's.
  auto& g = r.generate;
  g = engine::openai_defaults();
  auto& s = g.sampling;
  try {
    // OpenAI's newer name for max_tokens, which wins when both are given.
    if (const json* mc = field(body, "max_completion_tokens"))
      codec::read_parameter(*engine::find_parameter("max_tokens"), *mc, g, "max_completion_tokens");
    codec::read_parameters(body, g);
  } catch (const codec::ParameterError& e) {
    bad(e.parameter(), e.what());
  }

  if (integer(body, "n", 1, 1 << 20, 1) != 1) bad("n", "only n = 1 is supported");

  if (const json* lb = field(body, "logit_bias")) {
    if (!lb->is_object()) bad("logit_bias", "'logit_bias' must be an object of token id to bias");
    for (const auto& [k, v] : lb->items()) {
      size_t used = 0;
      long id = -1;
      try {
        id = std::stol(k, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != k.size() || id < 0 || id >= n_vocab)
        bad("logit_bias", "logit_bias key '" + k + "' is not a token id of this model (0.." +
                              std::to_string(n_vocab - 1) + ")");
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < -100 ||
          v.get<double>() > 100)
        bad("logit_bias", "logit_bias values must be numbers between -100 and 100");
      // OpenAI's -100 means "never"; the engine spells that -inf.
      const double b = v.get<double>();
      s.logit_bias.emplace_back(static_cast<engine::Token>(id),
                                b <= -100 ? -INFINITY : static_cast<float>(b));
    }
  }

  r.stream = boolean(body, "stream", false);
  if (const json* so = field(body, "stream_options")) {
    if (!so->is_object()) bad("stream_options", "'stream_options' must be an object");
    r.include_usage = boolean(*so, "include_usage", false);
  }
  // rmm's extension: false keeps this request out of the response cache.
  r.cache = boolean(body, "cache", true);
  return r;
}

std::vector<engine::ChatMessage> parse_messages(const json& body) {
  const json* ms = field(body, "messages");
  if (!ms || !ms->is_array() || ms->empty()) bad("messages", "'messages' must be a non-empty list");
  std::vector<engine::ChatMessage> out;
  for (size_t i = 0; i < ms->size(); ++i) {
    const auto& m = (*ms)[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) bad(where, where + " must be an object");
    const json* role = field(m, "role");
    if (!role || !role->is_string()) bad(where + ".role", where + ".role must be a string");
    std::string r = role->get<std::string>();
    if (r == "developer") r = "system";
    if (r != "system" && r != "user" && r != "assistant" && r != "tool")
      bad(where + ".role", where + ".role '" + r + "' is not system, developer, user, assistant or tool");
    std::string content;
    if (const json* c = field(m, "content")) {
      if (c->is_string()) {
        content = c->get<std::string>();
      } else if (c->is_array()) {
        for (const auto& part : *c) {
          if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
            bad(where + ".content", where + ".content parts must be objects with a type");
          if (part["type"] != "text")
            bad(where + ".content", "content part type '" + part["type"].get<std::string>() +
                                        "' is not supported by this model (text only)");
          if (!part.contains("text") || !part["text"].is_string())
            bad(where + ".content", where + ".content text parts need a 'text' string");
          if (!content.empty()) content += "\n";
          content += part["text"].get<std::string>();
        }
      } else {
        bad(where + ".content", where + ".content must be a string or a list of parts");
      }
    } else if (r != "assistant") {
      bad(where + ".content", where + ".content is required");
    }
    out.push_back({r, content});
  }
  return out;
}

std::string parse_response_format(const json& body) {
  const json* rf = field(body, "response_format");
  if (!rf) return "";
  if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string())
    bad("response_format", "'response_format' must be an object with a 'type'");
  const std::string type = (*rf)["type"];
  if (type == "text") return "";
  if (type == "json_object") return R"({"type":"object"})";
  if (type == "json_schema") {
    const json* js = field(*rf, "json_schema");
    if (!js || !js->is_object()) bad("response_format.json_schema", "'json_schema' must be an object");
    const json* schema = field(*js, "schema");
    if (!schema || !schema->is_object())
      bad("response_format.json_schema.schema", "'json_schema.schema' must be a JSON Schema object");
    return schema->dump();
  }
  bad("response_format.type", "response_format type '" + type + "' is not text, json_object or json_schema");
}

}  // namespace rmm::server::openai
