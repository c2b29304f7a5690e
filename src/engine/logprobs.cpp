#include "engine/logprobs.hpp"

#include <algorithm>
#include <cmath>

namespace rmm::engine {

Distribution distribution(const float* logits, int n_vocab) {
  float mx = -INFINITY;
  for (int i = 0; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double sum = 0.0, weighted = 0.0;
  for (int i = 0; i < n_vocab; ++i) {
    const double x = static_cast<double>(logits[i]) - mx;
    const double e = std::exp(x);
    sum += e;
    // A banned token (-inf) has e = 0 and adds nothing; 0 * -inf would be NaN.
    if (e > 0.0) weighted += e * x;
  }
  const double log_sum = std::log(sum);
  return {mx, static_cast<float>(log_sum), static_cast<float>(log_sum - weighted / sum)};
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
  // Called once per sequence per step over vocabularies of 128k+ entries, so it
  // is written to vectorise: block maxima first (lane-wise, no index tracking),
  // then a scalar look for the first maximum inside the winning block only.
  constexpr int kBlock = 256, kLanes = 16;
  float best = -INFINITY;
  int best_block = -1, i = 0;
  for (; i + kBlock <= n_vocab; i += kBlock) {
    float lane[kLanes];
    for (int j = 0; j < kLanes; ++j) lane[j] = logits[i + j];
    for (int k = kLanes; k < kBlock; k += kLanes) {
      for (int j = 0; j < kLanes; ++j) lane[j] = lane[j] < logits[i + k + j] ? logits[i + k + j] : lane[j];
    }
    float m = lane[0];
    for (int j = 1; j < kLanes; ++j) m = m < lane[j] ? lane[j] : m;
    if (m > best) {
      best = m;
      best_block = i;
    }
  }
  // The tail after the last whole block: its first maximum wins only if it beats every block.
  int tail_best = -1;
  for (int k = i; k < n_vocab; ++k) {
    if (logits[k] > best && (tail_best < 0 || logits[k] > logits[tail_best])) tail_best = k;
  }
  if (tail_best >= 0) return static_cast<Token>(tail_best);
  if (best_block < 0) return 0;  // every logit is -inf or NaN
  for (int k = best_block; k < best_block + kBlock; ++k) {
    if (logits[k] == best) return static_cast<Token>(k);
  }
  return static_cast<Token>(best_block);
}

}  // namespace rmm::engine
