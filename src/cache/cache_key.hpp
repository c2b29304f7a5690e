#pragma once
// Which requests the response cache may answer, and the key it files them
// under: a hex SHA-256 over a canonical serialization of everything that
// decides the output.
#include <string>

#include "engine/generation.hpp"

namespace rmm::cache {

// What decides the output besides the request itself.
struct KeyContext {
  std::string model_hash;  // hex SHA-256 of the model file
  int n_ctx_seq = 0;       // one sequence's context: it ends generations that have no max_tokens
};

// True when the same request always gives the same output: greedy decoding
// (temperature <= 0) or an explicitly fixed seed.
bool is_deterministic(const engine::GenerateRequest& request);

// Prompt token ids, every sampling parameter, max_tokens, stop strings,
// ignore_eos, visible special tokens and the log-probability options, plus
// the model hash, the context size and rmm's version. Floats are keyed by
// their bits, strings and lists by length and contents, so no two different
// requests share a serialization.
std::string cache_key(const KeyContext& context, const engine::GenerateRequest& request);

}  // namespace rmm::cache
