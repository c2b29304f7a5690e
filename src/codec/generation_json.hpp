#pragma once
// The one JSON shape of a generation, token by token and at its end, for every
// front end: `rmm run --json` lines, the WebSocket's `token` and `complete`
// messages, stored chat history (timings) and the response cache's recordings.
//
//   token event  {index, token_id, text, logprob, entropy?, alternatives: [{token_id, text, logprob}], t_ms}
//   timings      {prompt_tokens, cached_tokens, generated_tokens, queue_ms, prompt_ms,
//                 generation_ms, prompt_tokens_per_second, generation_tokens_per_second}
//   usage        {prompt_tokens, completion_tokens, total_tokens}
//   result       {finish_reason, stop_reason, seed, usage, timings, stop_string?, message?, code?}
//
// Log-probabilities come from the raw distribution; one that is -inf is null.
// `entropy` (nats, over the whole vocabulary, same distribution) is there only
// when log-probabilities were asked for.
// Alternatives' texts may end inside a character and are sanitized (U+FFFD).
// The exact form (token_event_record, result_record) is the same shape made
// lossless for the cache: it adds each token's `piece`, spells bytes that are
// not UTF-8 as {"hex": "..."} and non-finite floats as "nan", "inf", "-inf".
#include <nlohmann/json.hpp>

#include "engine/generation.hpp"

namespace rmm::codec {

// "stop" (end of generation or a stop string), "length", "cancelled", "error".
const char* finish_reason(engine::StopReason r);

nlohmann::json token_event_json(const engine::TokenEvent& ev);
nlohmann::json timings_json(const engine::Timings& t);
nlohmann::json usage_json(const engine::Timings& t);
// `code` (an error's kind, e.g. "unavailable") comes with an error's message.
nlohmann::json result_json(const engine::GenerationResult& r);
// rmm::Error kinds as the API names them: invalid_request, not_found, bad_model,
// out_of_memory, cancelled, unavailable, forbidden, server_error.
const char* error_code(ErrorKind kind);

// Lossless forms and their readers. The readers throw rmm::Error(BadFile) naming what is wrong.
nlohmann::json token_event_record(const engine::TokenEvent& ev);
engine::TokenEvent token_event_from_record(const nlohmann::json& j);
// result_json plus the text and the token ids.
nlohmann::json result_record(const engine::GenerationResult& r);
engine::GenerationResult result_from_record(const nlohmann::json& j);

}  // namespace rmm::codec
