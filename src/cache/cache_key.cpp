#include "cache/cache_key.hpp"

#include <bit>

#include "core/sha256.hpp"
#include "engine/parameters.hpp"

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
  Sha256 h;
  Canon c(h);
  c.str("format", "rmm-response-cache-2");
  c.str("rmm", RMM_VERSION);
  c.str("model", context.model_hash);
  c.i64("n_ctx_seq", context.n_ctx_seq);
  c.tokens("prompt", request.prompt);
  // The table's parameters (engine/parameters.hpp), each by its own type.
  for (const auto& p : engine::parameters()) {
    engine::visit_member(p, request, [&](const auto& m) {
      using T = std::decay_t<decltype(m)>;
      if constexpr (std::is_same_v<T, float>)
        c.f32(p.name, m);
      else if constexpr (std::is_same_v<T, std::vector<std::string>>)
        c.strs(p.name, m);
      else
        c.i64(p.name, static_cast<int64_t>(m));
    });
  }
  // The rest, which engine/parameters.cpp counts as not in the table.
  const auto& s = request.sampling;
  c.tokens("visible_special_tokens", request.visible_special_tokens);
  // The answer so far is part of the question: a different prefix is a different answer.
  c.tokens("continue_from", request.continue_from);
  c.i64("logprobs", request.logprobs);
  c.i64("top_logprobs", request.top_logprobs);
  c.field("logit_bias");
  h.update(std::to_string(s.logit_bias.size()) + ":");
  for (const auto& [tok, bias] : s.logit_bias)
    h.update(std::to_string(tok) + "/" + std::to_string(std::bit_cast<uint32_t>(bias)) + ",");
  h.update(";");
  c.str("grammar", s.grammar);
  c.str("json_schema", s.json_schema);
  c.i64("grammar_lazy", s.grammar_lazy);
  c.strs("grammar_trigger_patterns", s.grammar_trigger_patterns);
  c.tokens("grammar_trigger_tokens", s.grammar_trigger_tokens);
  c.str("grammar_prefill", s.grammar_prefill);
  return to_hex(h.finish());
}

}  // namespace rmm::cache
