// The cache key changes with every input that decides the output, and only
// deterministic requests are cacheable.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <set>

#include "cache/cache_key.hpp"

using namespace rmm::cache;
using rmm::engine::GenerateRequest;

namespace {

GenerateRequest base() {
  GenerateRequest r;
  r.prompt = {1, 2, 3};
  r.sampling.temperature = 0;
  r.max_tokens = 16;
  return r;
}

const KeyContext kCtx{"ab12", 512};

}  // namespace

TEST(CacheKey, SameRequestSameKey) {
  EXPECT_EQ(cache_key(kCtx, base()), cache_key(kCtx, base()));
  EXPECT_EQ(cache_key(kCtx, base()).size(), 64u);
}

TEST(CacheKey, EveryInputChangesTheKey) {
  using Mutation = std::pair<const char*, std::function<void(GenerateRequest&)>>;
  const std::vector<Mutation> mutations = {
      {"prompt", [](auto& r) { r.prompt.push_back(4); }},
      {"prompt order", [](auto& r) { std::swap(r.prompt[0], r.prompt[1]); }},
      {"max_tokens", [](auto& r) { r.max_tokens = 17; }},
      {"stop", [](auto& r) { r.stop = {"x"}; }},
      {"stop split",
       [](auto& r) {
         r.stop = {"x", "y"};
       }},
      {"stop joined", [](auto& r) { r.stop = {"xy"}; }},
      {"ignore_eos", [](auto& r) { r.ignore_eos = true; }},
      {"visible_special_tokens", [](auto& r) { r.visible_special_tokens = {7}; }},
      {"logprobs", [](auto& r) { r.logprobs = true; }},
      {"top_logprobs", [](auto& r) { r.top_logprobs = 3; }},
      {"temperature", [](auto& r) { r.sampling.temperature = -1; }},
      {"top_k", [](auto& r) { r.sampling.top_k = 5; }},
      {"top_p", [](auto& r) { r.sampling.top_p = 0.5f; }},
      {"min_p", [](auto& r) { r.sampling.min_p = 0.1f; }},
      {"typical_p", [](auto& r) { r.sampling.typical_p = 0.9f; }},
      {"repeat_penalty", [](auto& r) { r.sampling.repeat_penalty = 1.1f; }},
      {"repeat_last_n", [](auto& r) { r.sampling.repeat_last_n = 32; }},
      {"presence_penalty", [](auto& r) { r.sampling.presence_penalty = 0.5f; }},
      {"frequency_penalty", [](auto& r) { r.sampling.frequency_penalty = 0.5f; }},
      {"seed", [](auto& r) { r.sampling.seed = 42; }},
      {"logit_bias",
       [](auto& r) {
         r.sampling.logit_bias = {{5, 1.0f}};
       }},
      {"logit_bias -inf",
       [](auto& r) {
         r.sampling.logit_bias = {{5, -std::numeric_limits<float>::infinity()}};
       }},
      {"grammar", [](auto& r) { r.sampling.grammar = "root ::= \"a\""; }},
      {"json_schema", [](auto& r) { r.sampling.json_schema = "{}"; }},
      {"grammar_lazy", [](auto& r) { r.sampling.grammar_lazy = true; }},
      {"grammar_trigger_patterns", [](auto& r) { r.sampling.grammar_trigger_patterns = {"<tool>"}; }},
      {"grammar_trigger_tokens", [](auto& r) { r.sampling.grammar_trigger_tokens = {9}; }},
      {"grammar_prefill", [](auto& r) { r.sampling.grammar_prefill.assign(1, '{'); }},
  };
  std::set<std::string> keys{cache_key(kCtx, base())};
  for (const auto& [name, mutate] : mutations) {
    GenerateRequest r = base();
    mutate(r);
    EXPECT_TRUE(keys.insert(cache_key(kCtx, r)).second) << name << " did not change the key";
  }
  EXPECT_TRUE(keys.insert(cache_key({"ab13", 512}, base())).second) << "model hash";
  EXPECT_TRUE(keys.insert(cache_key({"ab12", 1024}, base())).second) << "context size";
}

TEST(CacheKey, OnlyDeterministicRequestsAreCacheable) {
  GenerateRequest r = base();
  EXPECT_TRUE(is_deterministic(r));  // greedy
  r.sampling.temperature = 0.8f;
  EXPECT_FALSE(is_deterministic(r));  // random seed
  r.sampling.seed = 0;
  EXPECT_TRUE(is_deterministic(r));  // a fixed seed, even 0
  r.sampling.seed = 4294967295LL;
  EXPECT_TRUE(is_deterministic(r));
}
