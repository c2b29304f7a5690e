#include "codec/generation_json.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/utf8.hpp"

namespace rmm::codec {
namespace {

using json = nlohmann::json;

json logprob_json(float v) { return std::isfinite(v) ? json(v) : json(nullptr); }

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorKind::BadFile, "recorded generation is malformed: " + what);
}

// A string, or {"hex": "..."} when its bytes are not UTF-8 (JSON text must be).
json bytes_json(const std::string& s) {
  if (utf8::is_valid(s)) return s;
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : s) {
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  return json{{"hex", hex}};
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  bad("bad hex digit");
}

std::string bytes_from(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (!j.is_object() || !j.contains("hex") || !j["hex"].is_string())
    bad("a string field is neither text nor hex");
  const std::string hex = j["hex"];
  if (hex.size() % 2) bad("odd hex length");
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2)
    out += static_cast<char>(hex_digit(hex[i]) * 16 + hex_digit(hex[i + 1]));
  return out;
}

// Floats as numbers (a float widened to double prints exactly and reads back
// to the same float), the non-finite ones as strings.
json float_json(float v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return static_cast<double>(v);
}

float float_from(const json& j) {
  if (j.is_number()) return static_cast<float>(j.get<double>());
  if (j == "nan") return std::numeric_limits<float>::quiet_NaN();
  if (j == "inf") return std::numeric_limits<float>::infinity();
  if (j == "-inf") return -std::numeric_limits<float>::infinity();
  bad("a log-probability is not a number");
}

engine::StopReason reason_from(const std::string& s) {
  for (auto r :
       {engine::StopReason::Length, engine::StopReason::StopString, engine::StopReason::EndOfGeneration,
        engine::StopReason::Cancelled, engine::StopReason::Error}) {
    if (s == engine::stop_reason_name(r)) return r;
  }
  bad("unknown stop reason '" + s + "'");
}

}  // namespace

const char* finish_reason(engine::StopReason r) {
  switch (r) {
    case engine::StopReason::EndOfGeneration:
    case engine::StopReason::StopString: return "stop";
    case engine::StopReason::Length: return "length";
    case engine::StopReason::Cancelled: return "cancelled";
    case engine::StopReason::Error: return "error";
  }
  return "error";
}

const char* error_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidArgument: return "invalid_request";
    case ErrorKind::NotFound: return "not_found";
    case ErrorKind::BadFile: return "bad_model";
    case ErrorKind::OutOfMemory: return "out_of_memory";
    case ErrorKind::Cancelled: return "cancelled";
    case ErrorKind::Unavailable: return "unavailable";
    case ErrorKind::Forbidden: return "forbidden";
    case ErrorKind::Internal: return "server_error";
  }
  return "server_error";
}

json token_event_json(const engine::TokenEvent& ev) {
  json alts = json::array();
  for (const auto& a : ev.top) {
    // An alternative's text may be part of a multi-byte character; JSON needs whole ones.
    alts.push_back(
        {{"token_id", a.token}, {"text", utf8::sanitize(a.text)}, {"logprob", logprob_json(a.logprob)}});
  }
  json j = {{"index", ev.index},
            {"token_id", ev.token},
            {"text", ev.text},
            {"logprob", logprob_json(ev.logprob)},
            {"alternatives", std::move(alts)},
            {"t_ms", ev.t_ms}};
  // Only there when log-probabilities were asked for (NaN otherwise).
  if (std::isfinite(ev.entropy)) j["entropy"] = ev.entropy;
  return j;
}

json timings_json(const engine::Timings& t) {
  return {{"prompt_tokens", t.prompt_tokens},
          {"cached_tokens", t.cached_tokens},
          {"generated_tokens", t.generated_tokens},
          {"queue_ms", t.queue_ms},
          {"prompt_ms", t.prompt_ms},
          {"generation_ms", t.generation_ms},
          {"prompt_tokens_per_second", t.prompt_tokens_per_second()},
          {"generation_tokens_per_second", t.generation_tokens_per_second()}};
}

json usage_json(const engine::Timings& t) {
  return {{"prompt_tokens", t.prompt_tokens},
          {"completion_tokens", t.generated_tokens},
          {"total_tokens", t.prompt_tokens + t.generated_tokens}};
}

json result_json(const engine::GenerationResult& r) {
  json j = {{"finish_reason", finish_reason(r.stop_reason)},
            {"stop_reason", engine::stop_reason_name(r.stop_reason)},
            {"seed", r.seed},
            {"usage", usage_json(r.timings)},
            {"timings", timings_json(r.timings)}};
  if (r.stop_reason == engine::StopReason::StopString && !r.stop_string.empty())
    j["stop_string"] = utf8::sanitize(r.stop_string);
  if (r.stop_reason == engine::StopReason::Error) {
    j["message"] = utf8::sanitize(r.error);
    j["code"] = error_code(r.error_kind);  // "unavailable": the model's worker died; send it again
  }
  return j;
}

json token_event_record(const engine::TokenEvent& ev) {
  json alts = json::array();
  for (const auto& a : ev.top)
    alts.push_back({{"token_id", a.token}, {"text", bytes_json(a.text)}, {"logprob", float_json(a.logprob)}});
  return {{"index", ev.index},
          {"token_id", ev.token},
          {"text", bytes_json(ev.text)},
          {"piece", bytes_json(ev.piece)},
          {"logprob", float_json(ev.logprob)},
          {"entropy", float_json(ev.entropy)},
          {"alternatives", std::move(alts)},
          {"t_ms", ev.t_ms}};
}

engine::TokenEvent token_event_from_record(const json& j) {
  engine::TokenEvent ev;
  try {
    ev.index = j.at("index").get<int>();
    ev.token = j.at("token_id").get<engine::Token>();
    ev.text = bytes_from(j.at("text"));
    ev.piece = bytes_from(j.at("piece"));
    ev.logprob = float_from(j.at("logprob"));
    // Recordings made before entropies were kept have none: NaN, as when not asked.
    if (const auto e = j.find("entropy"); e != j.end()) ev.entropy = float_from(*e);
    ev.t_ms = j.at("t_ms").get<double>();
    for (const auto& a : j.at("alternatives"))
      ev.top.push_back(
          {a.at("token_id").get<engine::Token>(), bytes_from(a.at("text")), float_from(a.at("logprob"))});
  } catch (const json::exception& e) {
    bad(e.what());
  }
  return ev;
}

json result_record(const engine::GenerationResult& r) {
  json j = result_json(r);
  j["text"] = bytes_json(r.text);
  j["tokens"] = r.tokens;
  j["stop_string"] = bytes_json(r.stop_string);
  if (r.stop_reason == engine::StopReason::Error) j["message"] = bytes_json(r.error);
  return j;
}

engine::GenerationResult result_from_record(const json& j) {
  engine::GenerationResult r;
  try {
    r.stop_reason = reason_from(j.at("stop_reason").get<std::string>());
    r.text = bytes_from(j.at("text"));
    r.tokens = j.at("tokens").get<std::vector<engine::Token>>();
    const auto& t = j.at("timings");
    r.timings.prompt_tokens = t.at("prompt_tokens").get<int>();
    r.timings.cached_tokens = t.at("cached_tokens").get<int>();
    r.timings.generated_tokens = t.at("generated_tokens").get<int>();
    r.timings.queue_ms = t.at("queue_ms").get<double>();
    r.timings.prompt_ms = t.at("prompt_ms").get<double>();
    r.timings.generation_ms = t.at("generation_ms").get<double>();
    r.seed = j.at("seed").get<uint32_t>();
    r.stop_string = bytes_from(j.at("stop_string"));
    if (r.stop_reason == engine::StopReason::Error) {
      r.error = bytes_from(j.at("message"));
      const std::string code = j.at("code").get<std::string>();
      for (auto k :
           {ErrorKind::InvalidArgument, ErrorKind::NotFound, ErrorKind::BadFile, ErrorKind::OutOfMemory,
            ErrorKind::Cancelled, ErrorKind::Unavailable, ErrorKind::Forbidden, ErrorKind::Internal}) {
        if (code == error_code(k)) r.error_kind = k;
      }
    }
  } catch (const json::exception& e) {
    bad(e.what());
  }
  return r;
}

}  // namespace rmm::codec
