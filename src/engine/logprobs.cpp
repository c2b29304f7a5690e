#include "engine/logprobs.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace rmm::engine {

namespace {

// e^x for x <= 0, in float, written so that the loop over the vocabulary
// vectorises (no libm call, no branch): x = n ln2 + r with |r| <= ln2/2,
// e^r by its Taylor series to r^7 (truncation error below 1e-8 relative),
// 2^n put straight into the exponent bits. For -87 <= x <= 0 (see clamp_below).
// libm's exp in double per token was ~10 ns each: 0.3 ms a token for a
// 32k vocabulary, 17 % of a small model's generation time on CPU and more
// on a GPU, where the rest is fast (bench/README.md, "Desktop app").
inline float exp_nonpositive(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;  // ln 2 = hi + lo, hi exact in few bits
  const auto n = static_cast<int32_t>(x * kLog2e - 0.5f);           // rounds to nearest: the argument is <= 0
  const auto nf = static_cast<float>(n);
  const float r = (x - nf * kLn2Hi) - nf * kLn2Lo;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const float scale = std::bit_cast<float>(static_cast<uint32_t>(n + 127) << 23);
  return p * scale;
}

// max(x, -87) for x <= 0 (a banned token's -inf included, so that no 0 * -inf
// turns the sum into NaN; e^-87 is 1.6e-38, nothing beside the 1 the top
// token adds). Done on the bits: a float compare-and-select would keep the
// loop from vectorising (NaN rules), an unsigned min does not. For negative
// floats a larger magnitude has larger bits; +0 and -0 stay as they are.
inline float clamp_below(float x) {
  constexpr uint32_t kMinus87 = 0xC2AE0000u;  // -87.0f
  return std::bit_cast<float>(std::min(std::bit_cast<uint32_t>(x), kMinus87));
}

}  // namespace

Distribution distribution(const float* logits, int n_vocab) {
  // Lanes everywhere: the compiler vectorises independent lanes, while one
  // running max or float sum would have to stay in order (no -ffast-math).
  constexpr int kLanes = 16, kBlock = 256;
  float lane_max[kLanes];
  for (float& m : lane_max) m = -INFINITY;
  int i = 0;
  for (; i + kLanes <= n_vocab; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) lane_max[j] = lane_max[j] < logits[i + j] ? logits[i + j] : lane_max[j];
  }
  float mx = -INFINITY;
  for (float m : lane_max) mx = std::max(mx, m);
  for (; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  // Float sums in lanes, folded into double every 256 tokens so that a 256k
  // vocabulary loses no more than a 256-token block does.
  double sum = 0.0, weighted = 0.0;
  auto add = [mx](float logit, float& s, float& w) {
    const float x = logit - mx;
    const float xc = clamp_below(x);
    const float e = exp_nonpositive(xc);
    s += e;
    w += e * xc;
  };
  i = 0;
  for (; i + kBlock <= n_vocab; i += kBlock) {
    float s[kLanes] = {}, w[kLanes] = {};
    for (int k = i; k < i + kBlock; k += kLanes) {
      for (int j = 0; j < kLanes; ++j) add(logits[k + j], s[j], w[j]);
    }
    for (int j = 0; j < kLanes; ++j) {
      sum += s[j];
      weighted += w[j];
    }
  }
  float s = 0.0f, w = 0.0f;
  for (; i < n_vocab; ++i) add(logits[i], s, w);
  sum += s;
  weighted += w;
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
  auto offer = [&](Token t) {
    if (static_cast<int>(heap.size()) < k) {
      heap.push_back(t);
      std::push_heap(heap.begin(), heap.end(), worse);
    } else if (worse(t, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      heap.back() = t;
      std::push_heap(heap.begin(), heap.end(), worse);
    }
  };
  // Once the heap is full, a block of 16 whose largest logit is not above the
  // heap's worst cannot enter it (ids only grow, so a tie loses): the block's
  // max is a vectorised pass, and most blocks end there.
  constexpr int kLanes = 16;
  Token t = 0;
  for (; t + kLanes <= n_vocab; t += kLanes) {
    if (static_cast<int>(heap.size()) == k) {
      float m = -INFINITY;  // a NaN logit never enters the heap, nor hides the rest of its block
      for (int j = 0; j < kLanes; ++j) m = m < logits[t + j] ? logits[t + j] : m;
      if (!(m > logits[heap.front()])) continue;
    }
    for (int j = 0; j < kLanes; ++j) offer(t + j);
  }
  for (; t < n_vocab; ++t) offer(t);
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
