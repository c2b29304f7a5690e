#pragma once
// A finished generation as the cache keeps it: every token event (text,
// bytes, log-probabilities, alternatives) and the result, stored as JSON.
#include <string>
#include <vector>

#include "engine/generation.hpp"

namespace rmm::cache {

struct Recording {
  std::vector<engine::TokenEvent> events;
  engine::GenerationResult result;
};

// Only these are worth keeping: a cancelled or failed generation is not the answer.
bool completed_normally(engine::StopReason r);

// Exact round trip: byte strings that are not UTF-8 (a token's piece can end
// inside a character) go as hex, floats keep all their bits and NaN or
// infinite log-probabilities survive.
std::string to_json(const Recording& r);
// Throws rmm::Error(BadFile) naming what is wrong.
Recording recording_from_json(const std::string& text);

}  // namespace rmm::cache
