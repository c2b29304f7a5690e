#include "cli/token_json.hpp"

#include <cmath>

namespace rmm::cli {
namespace {

nlohmann::json logprob_json(float lp) {
  return std::isfinite(lp) ? nlohmann::json(lp) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json token_event_json(const engine::TokenEvent& ev) {
  nlohmann::json top = nlohmann::json::array();
  for (const auto& a : ev.top)
    top.push_back({{"token", a.token}, {"text", a.text}, {"logprob", logprob_json(a.logprob)}});
  return {{"index", ev.index},     {"token", ev.token},
          {"text", ev.text},       {"logprob", logprob_json(ev.logprob)},
          {"top", std::move(top)}, {"t_ms", ev.t_ms}};
}

nlohmann::json timings_json(const engine::Timings& t) {
  return {{"prompt_tokens", t.prompt_tokens},
          {"cached_tokens", t.cached_tokens},
          {"generated_tokens", t.generated_tokens},
          {"queue_ms", t.queue_ms},
          {"prompt_ms", t.prompt_ms},
          {"generation_ms", t.generation_ms},
          {"prompt_tokens_per_second", t.prompt_tokens_per_second()},
          {"generation_tokens_per_second", t.generation_tokens_per_second()}};
}

nlohmann::json result_json(const engine::GenerationResult& r) {
  nlohmann::json j = {{"done", true},
                      {"stop_reason", engine::stop_reason_name(r.stop_reason)},
                      {"seed", r.seed},
                      {"timings", timings_json(r.timings)}};
  if (!r.stop_string.empty()) j["stop_string"] = r.stop_string;
  if (!r.error.empty()) j["error"] = r.error;
  return j;
}

}  // namespace rmm::cli
