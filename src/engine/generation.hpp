#pragma once
// What a caller asks of the engine and what it gets back, token by token.
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "engine/model.hpp"
#include "engine/sampling.hpp"

namespace rmm::engine {

struct GenerateRequest {
  std::vector<Token> prompt;  // already tokenized (see ChatFormatter / Model::tokenize)
  SamplingParams sampling;
  int max_tokens = -1;            // -1: until end of generation or the context is full
  std::vector<std::string> stop;  // matched across token boundaries, never emitted in part
  bool ignore_eos = false;
  // Special tokens whose text is part of the answer (a template's tool-call markers).
  std::vector<Token> visible_special_tokens;
  // Log-probabilities cost a softmax over the vocabulary per token, so they are opt-in.
  // The entropy comes with them: it is a by-product of the same pass, so a flag
  // of its own would save nothing and be one more thing every front end carries.
  bool logprobs = false;
  int top_logprobs = 0;  // 0..20 alternatives per token (implies logprobs)
  // The answer so far, as token ids decoded after the prompt: the model goes on
  // from exactly these tokens (text would be re-tokenized, maybe differently).
  // Token events count on from continue_from.size(); max_tokens and stop
  // strings apply to the new tokens only; the result's text starts with these
  // tokens' text (see continue_from_text).
  std::vector<Token> continue_from;
};

struct Alternative {
  Token token;
  std::string text;
  float logprob;
};

// One sampled token. `text` is always valid UTF-8: a token that ends inside a
// multi-byte character has empty text and the character goes with the token
// that completes it; text held back while it may start a stop string is
// released with the token that rules the stop out.
struct TokenEvent {
  int index = 0;  // 0-based position in the answer (continue_from's tokens come first)
  Token token = 0;
  std::string text;
  std::string piece;  // the token's own bytes (may be part of a character; not for display)
  // Log-probabilities come from the model's own distribution: softmax of the raw
  // logits, before temperature, penalties, filters or grammar. NaN when not asked.
  float logprob = 0.0f;
  // Entropy in nats of that whole distribution (every token of the vocabulary,
  // not just the alternatives). NaN when log-probabilities were not asked for.
  float entropy = std::numeric_limits<float>::quiet_NaN();
  std::vector<Alternative> top;  // best first
  double t_ms = 0.0;             // since the request was submitted
};

enum class StopReason { Length, StopString, EndOfGeneration, Cancelled, Error };
const char* stop_reason_name(StopReason r);

struct Timings {
  int prompt_tokens = 0;
  int cached_tokens = 0;  // prompt tokens reused from the KV cache, not recomputed
  int generated_tokens = 0;
  double queue_ms = 0.0;       // waiting for a free sequence slot
  double prompt_ms = 0.0;      // admission to first token
  double generation_ms = 0.0;  // first token to last token
  double prompt_tokens_per_second() const;
  double generation_tokens_per_second() const;  // tokens after the first / generation_ms
};

struct GenerationResult {
  StopReason stop_reason = StopReason::Length;
  std::string text;           // continue_from's text (continue_from_text), then every event's text
  std::vector<Token> tokens;  // the generated tokens (not continue_from's)
  Timings timings;
  uint32_t seed = 0;
  std::string error;  // set when stop_reason == Error
  // With stop_reason == Error: Unavailable when the worker serving the model
  // died (a front end answers 503: retry), Internal otherwise.
  ErrorKind error_kind = ErrorKind::Internal;
  std::string stop_string;  // the stop string that matched, if any
};

// The text of a request's continue_from tokens, as the answer starts with it:
// `text` holds whole characters only; `tail` is the bytes of a character the
// last tokens leave unfinished (a byte token chosen as an alternative), which
// the first new token's text completes.
struct ContinuedText {
  std::string text;
  std::string tail;
};
ContinuedText continue_from_text(const Model& model, const GenerateRequest& request);

using TokenCallback = std::function<void(const TokenEvent&)>;
using DoneCallback = std::function<void(const GenerationResult&)>;

}  // namespace rmm::engine
