#include "cache/cache_key.hpp"

#include <bit>

#include "cache/sha256.hpp"

namespace rmm::cache {
namespace {

// Fields go in as "name=value;" with strings and lists length-prefixed, so a
// value can never be read as part of the next field.
class Canon {
 public:
  explicit Canon(Sha256& h) : h_(h) {}
  void field(const char* name) {
    h_.update(name);
    h_.update("=");
  }
  void i64(const char* name, int64_t v) {
    field(name);
    h_.update(std::to_string(v) + ";");
  }
  void f32(const char* name, float v) {
    field(name);
    h_.update(std::to_string(std::bit_cast<uint32_t>(v)) + ";");
  }
  void str(const char* name, const std::string& s) {
    field(name);
    raw_str(s);
    h_.update(";");
  }
  void strs(const char* name, const std::vector<std::string>& v) {
    field(name);
    h_.update(std::to_string(v.size()) + ":");
    for (const auto& s : v) raw_str(s);
    h_.update(";");
  }
  void tokens(const char* name, const std::vector<engine::Token>& v) {
    field(name);
    h_.update(std::to_string(v.size()) + ":");
    for (auto t : v) h_.update(std::to_string(t) + ",");
    h_.update(";");
  }

 private:
  void raw_str(const std::string& s) {
    h_.update(std::to_string(s.size()) + ":");
    h_.update(s);
  }
  Sha256& h_;
};

}  // namespace

bool is_deterministic(const engine::GenerateRequest& request) {
  return request.sampling.is_greedy() || request.sampling.seed >= 0;
}

std::string cache_key(const KeyContext& context, const engine::GenerateRequest& request) {
  // The structured bindings name every field: adding one to either struct
  // breaks the build here until the key covers it too.
  const auto& [prompt, sampling, max_tokens, stop, ignore_eos, visible_special_tokens, logprobs,
               top_logprobs] = request;
  const auto& [temperature, top_k, top_p, min_p, typical_p, repeat_penalty, repeat_last_n, presence_penalty,
               frequency_penalty, seed, logit_bias, grammar, json_schema, grammar_lazy,
               grammar_trigger_patterns, grammar_trigger_tokens, grammar_prefill] = sampling;

  Sha256 h;
  Canon c(h);
  c.str("format", "rmm-response-cache-1");
  c.str("rmm", RMM_VERSION);
  c.str("model", context.model_hash);
  c.i64("n_ctx_seq", context.n_ctx_seq);
  c.tokens("prompt", prompt);
  c.i64("max_tokens", max_tokens);
  c.strs("stop", stop);
  c.i64("ignore_eos", ignore_eos);
  c.tokens("visible_special_tokens", visible_special_tokens);
  c.i64("logprobs", logprobs);
  c.i64("top_logprobs", top_logprobs);
  c.f32("temperature", temperature);
  c.i64("top_k", top_k);
  c.f32("top_p", top_p);
  c.f32("min_p", min_p);
  c.f32("typical_p", typical_p);
  c.f32("repeat_penalty", repeat_penalty);
  c.i64("repeat_last_n", repeat_last_n);
  c.f32("presence_penalty", presence_penalty);
  c.f32("frequency_penalty", frequency_penalty);
  c.i64("seed", seed);
  c.field("logit_bias");
  h.update(std::to_string(logit_bias.size()) + ":");
  for (const auto& [tok, bias] : logit_bias)
    h.update(std::to_string(tok) + "/" + std::to_string(std::bit_cast<uint32_t>(bias)) + ",");
  h.update(";");
  c.str("grammar", grammar);
  c.str("json_schema", json_schema);
  c.i64("grammar_lazy", grammar_lazy);
  c.strs("grammar_trigger_patterns", grammar_trigger_patterns);
  c.tokens("grammar_trigger_tokens", grammar_trigger_tokens);
  c.str("grammar_prefill", grammar_prefill);
  return to_hex(h.finish());
}

}  // namespace rmm::cache
