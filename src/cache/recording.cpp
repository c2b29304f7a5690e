#include "cache/recording.hpp"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/utf8.hpp"

namespace rmm::cache {
namespace {

using json = nlohmann::json;

constexpr int kFormat = 1;

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

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorKind::BadFile, "cached response is malformed: " + what);
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

const char* reason_name(engine::StopReason r) { return engine::stop_reason_name(r); }

engine::StopReason reason_from(const std::string& s) {
  for (auto r :
       {engine::StopReason::Length, engine::StopReason::StopString, engine::StopReason::EndOfGeneration,
        engine::StopReason::Cancelled, engine::StopReason::Error}) {
    if (s == reason_name(r)) return r;
  }
  bad("unknown stop reason '" + s + "'");
}

}  // namespace

bool completed_normally(engine::StopReason r) {
  return r == engine::StopReason::Length || r == engine::StopReason::StopString ||
         r == engine::StopReason::EndOfGeneration;
}

std::string to_json(const Recording& rec) {
  json events = json::array();
  for (const auto& ev : rec.events) {
    json top = json::array();
    for (const auto& a : ev.top)
      top.push_back(json::array({a.token, bytes_json(a.text), float_json(a.logprob)}));
    events.push_back({{"token", ev.token},
                      {"text", bytes_json(ev.text)},
                      {"piece", bytes_json(ev.piece)},
                      {"logprob", float_json(ev.logprob)},
                      {"top", std::move(top)}});
  }
  const auto& r = rec.result;
  json result = {{"stop_reason", reason_name(r.stop_reason)},
                 {"text", bytes_json(r.text)},
                 {"tokens", r.tokens},
                 {"prompt_tokens", r.timings.prompt_tokens},
                 {"generated_tokens", r.timings.generated_tokens},
                 {"seed", r.seed},
                 {"stop_string", bytes_json(r.stop_string)}};
  return json{{"format", kFormat}, {"events", std::move(events)}, {"result", std::move(result)}}.dump();
}

Recording recording_from_json(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) bad("not a JSON object");
  if (j.value("format", 0) != kFormat) bad("unknown format");
  Recording rec;
  try {
    const auto& events = j.at("events");
    for (size_t i = 0; i < events.size(); ++i) {
      const auto& e = events[i];
      engine::TokenEvent ev;
      ev.index = static_cast<int>(i);
      ev.token = e.at("token").get<engine::Token>();
      ev.text = bytes_from(e.at("text"));
      ev.piece = bytes_from(e.at("piece"));
      ev.logprob = float_from(e.at("logprob"));
      for (const auto& a : e.at("top")) {
        if (!a.is_array() || a.size() != 3) bad("an alternative is not [token, text, logprob]");
        ev.top.push_back({a[0].get<engine::Token>(), bytes_from(a[1]), float_from(a[2])});
      }
      rec.events.push_back(std::move(ev));
    }
    const auto& r = j.at("result");
    rec.result.stop_reason = reason_from(r.at("stop_reason").get<std::string>());
    rec.result.text = bytes_from(r.at("text"));
    rec.result.tokens = r.at("tokens").get<std::vector<engine::Token>>();
    rec.result.timings.prompt_tokens = r.at("prompt_tokens").get<int>();
    rec.result.timings.generated_tokens = r.at("generated_tokens").get<int>();
    rec.result.seed = r.at("seed").get<uint32_t>();
    rec.result.stop_string = bytes_from(r.at("stop_string"));
  } catch (const json::exception& e) {
    bad(e.what());
  }
  return rec;
}

}  // namespace rmm::cache
