#pragma once
// Sampling settings and the llama.cpp sampler chain built from them.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/model.hpp"

struct llama_sampler;

namespace rmm::engine {

struct SamplingParams {
  float temperature = 0.8f;     // <= 0: greedy
  int top_k = 40;               // <= 0: off
  float top_p = 0.95f;          // 1: off
  float min_p = 0.05f;          // 0: off
  float typical_p = 1.0f;       // 1: off
  float repeat_penalty = 1.0f;  // 1: off
  int repeat_last_n = 64;       // tokens the penalties look back over (-1: whole context)
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int64_t seed = -1;                                // -1: random
  std::vector<std::pair<Token, float>> logit_bias;  // -inf bans a token
  std::string grammar;                              // GBNF; takes precedence over json_schema
  std::string json_schema;  // JSON Schema text, turned into a grammar by llama.cpp common
  // A lazy grammar (tool calls) applies only once a trigger appears in the output.
  bool grammar_lazy = false;
  std::vector<std::string> grammar_trigger_patterns;
  std::vector<Token> grammar_trigger_tokens;
  // Text the chat template already wrote for the answer; fed to the grammar first.
  std::string grammar_prefill;

  bool is_greedy() const { return temperature <= 0.0f; }
};

// Throws rmm::Error(InvalidArgument) naming the first bad field (NaN, out of range,
// token ids outside the vocabulary, an invalid grammar or schema).
void validate(const SamplingParams& p, int n_vocab);

struct SamplerDeleter {
  void operator()(llama_sampler* s) const;
};
using SamplerPtr = std::unique_ptr<llama_sampler, SamplerDeleter>;

// Builds the chain (grammar, logit bias, penalties, filters, temperature, then
// dist or greedy). `resolved_seed` receives the seed actually used.
SamplerPtr make_sampler(const Model& model, const SamplingParams& p, uint32_t* resolved_seed = nullptr);

// Builds (and frees) the grammar stage exactly as make_sampler will, so that a
// schema or grammar the engine would refuse on its own thread can be refused
// before the request is queued. Throws rmm::Error(InvalidArgument).
void check_grammar(const Model& model, const SamplingParams& p);

// True when sampling reduces to argmax of the raw logits, which the engine can
// do without building a candidate array over the whole vocabulary.
bool is_plain_greedy(const SamplingParams& p);

// GBNF for a JSON Schema (llama.cpp common's converter). Throws InvalidArgument,
// also for a schema past the limits of check_json_schema_size.
std::string json_schema_to_gbnf(const std::string& schema_json);

// llama.cpp's converter spells an object's optional properties as one rule
// chain per suffix: its time grows about with the cube of their number (1,000
// take 1.7 s, 3,000 take 47 s), so an 80 KB request could stall the thread
// that converts it. Required properties cost little.
inline constexpr int kMaxOptionalProperties = 256;        // in one object
inline constexpr int kMaxOptionalPropertiesTotal = 1024;  // in the whole schema
// Throws rmm::Error(InvalidArgument) naming `what` when the schema nests deeper
// than kMaxJsonDepth or has more optional properties than the limits above.
void check_json_schema_size(const std::string& schema_json, const std::string& what);

}  // namespace rmm::engine
