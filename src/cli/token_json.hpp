#pragma once
// JSON lines for `rmm run --json` and `rmm prompt run --json`: one token event
// per line in the one shape (codec::token_event_json), then this summary.
#include <nlohmann/json.hpp>

#include "engine/generation.hpp"

namespace rmm::cli {

// codec::result_json with "done": true.
nlohmann::json done_json(const engine::GenerationResult& r);

}  // namespace rmm::cli
