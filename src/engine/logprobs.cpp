#include "engine/logprobs.hpp"

#include <algorithm>
#include <cmath>

namespace rmm::engine {

Distribution distribution(const float* logits, int n_vocab) {
  float mx = -INFINITY;
  for (int i = 0; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double sum = 0.0;
  for (int i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i] - mx));
  return {mx, static_cast<float>(std::log(sum))};
}

std::vector<std::pair<Token, float>> top_logprobs(const float* logits, int n_vocab, const Distribution& d,
                                                  int k) {
  k = std::min(k, n_vocab);
  if (k <= 0) return {};
  // A min-heap of the best k keeps this one pass over the vocabulary.
  auto worse = [&](Token a, Token b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  std::vector<Token> heap;
  heap.reserve(static_cast<size_t>(k));
  for (Token t = 0; t < n_vocab; ++t) {
    if (static_cast<int>(heap.size()) < k) {
      heap.push_back(t);
      std::push_heap(heap.begin(), heap.end(), worse);
    } else if (worse(t, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      heap.back() = t;
      std::push_heap(heap.begin(), heap.end(), worse);
    }
  }
  std::sort(heap.begin(), heap.end(), worse);
  std::vector<std::pair<Token, float>> out;
  out.reserve(heap.size());
  for (Token t : heap) out.emplace_back(t, d.logprob(logits, t));
  return out;
}

Token argmax(const float* logits, int n_vocab) {
  Token best = 0;
  for (Token i = 1; i < n_vocab; ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return best;
}

}  // namespace rmm::engine
