#pragma once
// Log-probabilities of the model's raw distribution (softmax of the logits).
#include <utility>
#include <vector>

#include "engine/model.hpp"

namespace rmm::engine {

struct Distribution {
  float max_logit;
  float log_sum;  // log(sum(exp(logit - max_logit)))
  // Shannon entropy in nats of the whole distribution, -sum(p log p). It falls
  // out of the pass that sums the exponentials: with x = logit - max_logit and
  // S = sum(e^x), log p = x - log S, so H = log S - sum(e^x * x) / S.
  float entropy;
  float logprob(const float* logits, Token t) const { return logits[t] - max_logit - log_sum; }
};

Distribution distribution(const float* logits, int n_vocab);

// The k most likely tokens, best first, as (token, logprob); ties go to the lower id.
std::vector<std::pair<Token, float>> top_logprobs(const float* logits, int n_vocab, const Distribution& d,
                                                  int k);

// Index of the largest logit; the first one wins ties, as in llama.cpp's greedy sampler.
Token argmax(const float* logits, int n_vocab);

}  // namespace rmm::engine
