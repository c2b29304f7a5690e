#pragma once
// JSON lines for `rmm run --json`: one object per token event, then a summary.
#include <nlohmann/json.hpp>

#include "engine/generation.hpp"

namespace rmm::cli {

nlohmann::json token_event_json(const engine::TokenEvent& ev);
nlohmann::json timings_json(const engine::Timings& t);
nlohmann::json result_json(const engine::GenerationResult& r);

}  // namespace rmm::cli
