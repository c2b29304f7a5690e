#include "server/openai/request.hpp"

#include <cmath>

#include "codec/parameters_json.hpp"
#include "server/api_error.hpp"

namespace rmm::server::openai {

using json = nlohmann::json;

ParsedRequest parse_common(const json& body, int n_vocab) {
  ParsedRequest r;
  r.model = string_field(body, "model").value_or("");
  // OpenAI's defaults (temperature 1, top_p 1, no top-k / min-p); the
  // types, ranges and messages are the parameter table's.
  auto& g = r.generate;
  g = engine::openai_defaults();
  auto& s = g.sampling;
  try {
    // OpenAI's newer name for max_tokens, which wins when both are given.
    if (const json* mc = body_field(body, "max_completion_tokens"))
      codec::read_parameter(*engine::find_parameter("max_tokens"), *mc, g, "max_completion_tokens");
    codec::read_parameters(body, g);
  } catch (const codec::ParameterError& e) {
    bad_request(e.parameter(), e.what());
  }

  if (integer_field(body, "n", 1, 1 << 20, 1) != 1) bad_request("n", "only n = 1 is supported");

  // rmm's extension: the answer so far as token ids, which the model continues.
  if (const json* cf = body_field(body, "continue_from")) {
    try {
      g.continue_from = codec::read_continue_from(*cf, n_vocab);
    } catch (const codec::ParameterError& e) {
      bad_request(e.field(), e.what());
    }
  }

  if (const json* lb = body_field(body, "logit_bias")) {
    if (!lb->is_object()) bad_request("logit_bias", "'logit_bias' must be an object of token id to bias");
    for (const auto& [k, v] : lb->items()) {
      size_t used = 0;
      long id = -1;
      try {
        id = std::stol(k, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != k.size() || id < 0 || id >= n_vocab)
        bad_request("logit_bias", "logit_bias key '" + k + "' is not a token id of this model (0.." +
                                      std::to_string(n_vocab - 1) + ")");
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < -100 ||
          v.get<double>() > 100)
        bad_request("logit_bias", "logit_bias values must be numbers between -100 and 100");
      // OpenAI's -100 means "never"; the engine spells that -inf.
      const double b = v.get<double>();
      s.logit_bias.emplace_back(static_cast<engine::Token>(id),
                                b <= -100 ? -INFINITY : static_cast<float>(b));
    }
  }

  r.stream = bool_field(body, "stream", false);
  if (const json* so = body_field(body, "stream_options")) {
    if (!so->is_object()) bad_request("stream_options", "'stream_options' must be an object");
    r.include_usage = bool_field(*so, "include_usage", false);
  }
  // rmm's extension: false keeps this request out of the response cache.
  r.cache = bool_field(body, "cache", true);
  return r;
}

std::vector<engine::ChatMessage> parse_messages(const json& body) {
  const json* ms = body_field(body, "messages");
  if (!ms || !ms->is_array() || ms->empty()) bad_request("messages", "'messages' must be a non-empty list");
  std::vector<engine::ChatMessage> out;
  for (size_t i = 0; i < ms->size(); ++i) {
    const auto& m = (*ms)[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) bad_request(where, where + " must be an object");
    const json* role = body_field(m, "role");
    if (!role || !role->is_string()) bad_request(where + ".role", where + ".role must be a string");
    std::string r = role->get<std::string>();
    if (r == "developer") r = "system";
    if (r != "system" && r != "user" && r != "assistant" && r != "tool")
      bad_request(where + ".role",
                  where + ".role '" + r + "' is not system, developer, user, assistant or tool");
    std::string content;
    if (const json* c = body_field(m, "content")) {
      if (c->is_string()) {
        content = c->get<std::string>();
      } else if (c->is_array()) {
        for (const auto& part : *c) {
          if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
            bad_request(where + ".content", where + ".content parts must be objects with a type");
          if (part["type"] != "text")
            bad_request(where + ".content", "content part type '" + part["type"].get<std::string>() +
                                                "' is not supported by this model (text only)");
          if (!part.contains("text") || !part["text"].is_string())
            bad_request(where + ".content", where + ".content text parts need a 'text' string");
          if (!content.empty()) content += "\n";
          content += part["text"].get<std::string>();
        }
      } else {
        bad_request(where + ".content", where + ".content must be a string or a list of parts");
      }
    } else if (r != "assistant") {
      bad_request(where + ".content", where + ".content is required");
    }
    out.push_back({r, content});
  }
  return out;
}

std::string parse_response_format(const json& body) {
  const json* rf = body_field(body, "response_format");
  if (!rf) return "";
  if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string())
    bad_request("response_format", "'response_format' must be an object with a 'type'");
  const std::string type = (*rf)["type"];
  if (type == "text") return "";
  if (type == "json_object") return R"({"type":"object"})";
  if (type == "json_schema") {
    const json* js = body_field(*rf, "json_schema");
    if (!js || !js->is_object())
      bad_request("response_format.json_schema", "'json_schema' must be an object");
    const json* schema = body_field(*js, "schema");
    if (!schema || !schema->is_object())
      bad_request("response_format.json_schema.schema", "'json_schema.schema' must be a JSON Schema object");
    return schema->dump();
  }
  bad_request("response_format.type",
              "response_format type '" + type + "' is not text, json_object or json_schema");
}

}  // namespace rmm::server::openai
