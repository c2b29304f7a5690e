#include "engine/sampling.hpp"

#include <json-schema-to-grammar.h>
#include <json.h>
#include <llama.h>

#include <cctype>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "core/error.hpp"
#include "core/json_limits.hpp"
#include "engine/parameters.hpp"

namespace rmm::engine {
namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw Error(ErrorKind::InvalidArgument, message);
}

std::string effective_grammar(const SamplingParams& p) {
  if (!p.grammar.empty()) return p.grammar;
  if (!p.json_schema.empty()) return json_schema_to_gbnf(p.json_schema);
  return "";
}

}  // namespace

void SamplerDeleter::operator()(llama_sampler* s) const { llama_sampler_free(s); }

void validate(const SamplingParams& p, int n_vocab) {
  // The table's ranges (engine/parameters.cpp), the same every front end checks.
  check_sampling_parameters(p);
  for (const auto& [token, bias] : p.logit_bias) {
    require(token >= 0 && token < n_vocab, "logit_bias token " + std::to_string(token) +
                                               " is outside the vocabulary (0.." +
                                               std::to_string(n_vocab - 1) + ")");
    require(!std::isnan(bias) && bias != INFINITY,
            "logit_bias for token " + std::to_string(token) + " must be a number or -inf");
  }
}

bool is_plain_greedy(const SamplingParams& p) {
  return p.is_greedy() && p.grammar.empty() && p.json_schema.empty() && p.logit_bias.empty() &&
         p.repeat_penalty == 1.0f && p.presence_penalty == 0.0f && p.frequency_penalty == 0.0f;
}

namespace {

// Counts optional properties (those not in "required") object by object,
// without recursion. Any "properties" object counts, even one inside an enum
// value: erring on the side of refusing is cheap here.
void check_optional_properties(const common_json& root, const std::string& what) {
  int total = 0;
  std::vector<const common_json*> pending{&root};
  while (!pending.empty()) {
    const common_json* node = pending.back();
    pending.pop_back();
    // common_json iterates a plain value as itself: only containers have children.
    if (!node->is_object() && !node->is_array()) continue;
    for (const auto& child : *node) pending.push_back(&child);
    if (!node->is_object() || !node->contains("properties")) continue;
    const common_json& props = node->at("properties");
    if (!props.is_object()) continue;
    // Sets: an object's own lookups are linear, and a name listed twice must not count twice.
    std::set<std::string> names, required;
    for (const auto& [name, value] : props.items()) names.insert(name);
    if (node->contains("required") && node->at("required").is_array()) {
      for (const auto& r : node->at("required")) {
        if (r.is_string() && names.count(r.get<std::string>())) required.insert(r.get<std::string>());
      }
    }
    const int optional = static_cast<int>(names.size() - required.size());
    total += optional;
    if (optional > kMaxOptionalProperties)
      throw Error(ErrorKind::InvalidArgument, what + " has an object with " + std::to_string(optional) +
                                                  " optional properties; at most " +
                                                  std::to_string(kMaxOptionalProperties) +
                                                  " are supported (list the others in 'required')");
    if (total > kMaxOptionalPropertiesTotal)
      throw Error(ErrorKind::InvalidArgument, what + " has more than " +
                                                  std::to_string(kMaxOptionalPropertiesTotal) +
                                                  " optional properties in all");
  }
}

common_json parse_schema(const std::string& schema_json, const std::string& what) {
  // The converter recurses once (or more) per level of the schema: bound it
  // first. Server requests are bounded already (at parse); CLI files are not.
  check_json_depth(schema_json, what);
  common_json schema;
  try {
    schema = common_json::parse(schema_json);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::InvalidArgument, what + " is not valid JSON: " + e.what());
  }
  check_optional_properties(schema, what);
  return schema;
}

}  // namespace

void check_json_schema_size(const std::string& schema_json, const std::string& what) {
  (void)parse_schema(schema_json, what);
}

std::string json_schema_to_gbnf(const std::string& schema_json) {
  const common_json schema = parse_schema(schema_json, "json_schema");
  try {
    return json_schema_to_grammar(schema);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::InvalidArgument,
                std::string("json_schema is not a usable JSON Schema: ") + e.what());
  }
}

namespace {

// The grammar stage of the chain (nullptr when nothing constrains the output).
// Everything llama.cpp may refuse here (a schema its converter rejects, GBNF
// that does not parse, a trigger pattern std::regex rejects, a prefix the
// grammar does not allow) becomes InvalidArgument: it all comes from the request.
SamplerPtr make_grammar_sampler(const Model& model, const SamplingParams& p) {
  const std::string grammar = effective_grammar(p);
  if (grammar.empty()) return nullptr;
  SamplerPtr g;
  try {
    if (p.grammar_lazy) {
      std::vector<const char*> patterns;
      for (const auto& t : p.grammar_trigger_patterns) patterns.push_back(t.c_str());
      g.reset(llama_sampler_init_grammar_lazy_patterns(
          model.vocab(), grammar.c_str(), "root", patterns.data(), patterns.size(),
          p.grammar_trigger_tokens.data(), p.grammar_trigger_tokens.size()));
    } else {
      g.reset(llama_sampler_init_grammar(model.vocab(), grammar.c_str(), "root"));
    }
  } catch (const std::exception& e) {
    throw Error(ErrorKind::InvalidArgument, std::string("grammar could not be set up: ") + e.what());
  }
  if (!g) throw Error(ErrorKind::InvalidArgument, "grammar could not be parsed (GBNF syntax error)");
  if (!p.grammar_prefill.empty() && !p.grammar_lazy) {
    try {
      auto tokens = model.tokenize(p.grammar_prefill, false, true);
      // SentencePiece vocabularies put a space before the text; the template wrote none.
      if (!tokens.empty() && !std::isspace(static_cast<unsigned char>(p.grammar_prefill[0]))) {
        const std::string first = model.piece(tokens[0], true);
        if (first.size() == 1 && std::isspace(static_cast<unsigned char>(first[0])))
          tokens.erase(tokens.begin());
      }
      for (Token t : tokens) llama_sampler_accept(g.get(), t);
    } catch (const std::exception& e) {
      throw Error(ErrorKind::InvalidArgument,
                  std::string("the grammar rejects the answer's prefix: ") + e.what());
    }
  }
  return g;
}

}  // namespace

void check_grammar(const Model& model, const SamplingParams& p) { (void)make_grammar_sampler(model, p); }

SamplerPtr make_sampler(const Model& model, const SamplingParams& p, uint32_t* resolved_seed) {
  validate(p, model.n_vocab());
  auto cp = llama_sampler_chain_default_params();
  cp.no_perf = true;
  SamplerPtr chain(llama_sampler_chain_init(cp));
  // The chain owns what is added to it.
  if (SamplerPtr g = make_grammar_sampler(model, p)) llama_sampler_chain_add(chain.get(), g.release());
  if (!p.logit_bias.empty()) {
    std::vector<llama_logit_bias> lb;
    for (const auto& [t, b] : p.logit_bias) lb.push_back({t, b});
    llama_sampler_chain_add(chain.get(), llama_sampler_init_logit_bias(
                                             model.n_vocab(), static_cast<int32_t>(lb.size()), lb.data()));
  }
  if (p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f) {
    const int last_n = p.repeat_last_n < 0 ? model.n_ctx_train() : p.repeat_last_n;
    llama_sampler_chain_add(chain.get(),
                            llama_sampler_init_penalties(model.n_vocab(), last_n, p.repeat_penalty,
                                                         p.frequency_penalty, p.presence_penalty));
  }
  uint32_t seed = p.seed >= 0 ? static_cast<uint32_t>(p.seed) : std::random_device{}();
  if (resolved_seed) *resolved_seed = seed;
  if (p.is_greedy()) {
    llama_sampler_chain_add(chain.get(), llama_sampler_init_greedy());
    return chain;
  }
  if (p.top_k > 0) llama_sampler_chain_add(chain.get(), llama_sampler_init_top_k(p.top_k));
  if (p.typical_p < 1.0f) llama_sampler_chain_add(chain.get(), llama_sampler_init_typical(p.typical_p, 1));
  if (p.top_p < 1.0f) llama_sampler_chain_add(chain.get(), llama_sampler_init_top_p(p.top_p, 1));
  if (p.min_p > 0.0f) llama_sampler_chain_add(chain.get(), llama_sampler_init_min_p(p.min_p, 1));
  llama_sampler_chain_add(chain.get(), llama_sampler_init_temp(p.temperature));
  llama_sampler_chain_add(chain.get(), llama_sampler_init_dist(seed));
  return chain;
}

}  // namespace rmm::engine
