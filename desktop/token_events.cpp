#include "token_events.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "codec/generation_json.hpp"

namespace rmm::desktop {

namespace {

float float_of(const nlohmann::json& j, const char* key, float missing) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return missing;  // null: a logprob of -inf
  return it->get<float>();
}

std::string string_of(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double lightness_of(double t) { return 0.95 - 0.6 * std::clamp(t, 0.0, 1.0); }

}  // namespace

std::string token_events_json(const std::vector<engine::TokenEvent>& events) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : events) out.push_back(codec::token_event_json(e));
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<engine::TokenEvent> token_events_from_json(const std::string& text) {
  std::vector<engine::TokenEvent> out;
  if (text.empty()) return out;
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float none = -std::numeric_limits<float>::infinity();
  for (const auto& e : j) {
    if (!e.is_object() || !e.contains("token_id") || !e["token_id"].is_number_integer()) return {};
    engine::TokenEvent ev;
    ev.index = e.value("index", static_cast<int>(out.size()));
    ev.token = e["token_id"].get<engine::Token>();
    ev.text = string_of(e, "text");
    ev.logprob = float_of(e, "logprob", none);
    ev.entropy = float_of(e, "entropy", nan);
    ev.t_ms = e.value("t_ms", 0.0);
    if (const auto a = e.find("alternatives"); a != e.end() && a->is_array()) {
      for (const auto& alt : *a) {
        if (!alt.is_object() || !alt.contains("token_id") || !alt["token_id"].is_number_integer()) continue;
        ev.top.push_back(
            {alt["token_id"].get<engine::Token>(), string_of(alt, "text"), float_of(alt, "logprob", none)});
      }
    }
    out.push_back(std::move(ev));
  }
  return out;
}

std::vector<engine::TokenEvent> fork_prefix(const std::vector<engine::TokenEvent>& source, int at, int alt) {
  if (at < 0 || at >= static_cast<int>(source.size())) return {};
  const auto& base = source[static_cast<size_t>(at)];
  if (alt < 0 || alt >= static_cast<int>(base.top.size())) return {};
  std::vector<engine::TokenEvent> out(source.begin(), source.begin() + at);
  engine::TokenEvent picked;
  picked.index = at;
  picked.token = base.top[static_cast<size_t>(alt)].token;
  picked.text = base.top[static_cast<size_t>(alt)].text;
  picked.logprob = base.top[static_cast<size_t>(alt)].logprob;
  picked.entropy = base.entropy;
  picked.top = base.top;
  out.push_back(std::move(picked));
  return out;
}

double probability(float logprob) { return std::isfinite(logprob) ? std::exp(double(logprob)) : 0.0; }

double layer_value(const engine::TokenEvent& e, TokenLayer layer) {
  if (layer == TokenLayer::Probability) return 1.0 - probability(e.logprob);
  return std::isfinite(e.entropy) ? std::min(1.0, double(e.entropy) / kEntropyScaleMax) : 0.0;
}

QColor scale_background(double t, TokenLayer layer) {
  t = std::clamp(t, 0.0, 1.0);
  // Probability: pale yellow to deep violet; entropy: pale cyan to deep blue.
  const double hue = layer == TokenLayer::Probability ? 55.0 + 215.0 * t : 185.0 + 45.0 * t;
  const double saturation = 0.55 + 0.25 * t;
  return QColor::fromHslF(float(hue / 360.0), float(saturation), float(lightness_of(t)));
}

QColor scale_text(double t, TokenLayer) {
  return lightness_of(t) < 0.6 ? QColor(Qt::white) : QColor(Qt::black);
}

}  // namespace rmm::desktop
