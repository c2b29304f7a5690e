// The vectorised argmax must agree with the obvious scalar loop (first maximum
// wins), whatever the vocabulary size and wherever the maximum sits.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/logprobs.hpp"

using rmm::engine::argmax;

namespace {

int scalar_argmax(const std::vector<float>& x) {
  int best = 0;
  for (int i = 1; i < static_cast<int>(x.size()); ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

}  // namespace

TEST(Argmax, MatchesScalarReferenceOnRandomLogits) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.0f, 3.0f);
  for (int n : {1, 2, 15, 16, 255, 256, 257, 512, 1000, 32000, 128256}) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> x(static_cast<size_t>(n));
      for (auto& v : x) v = d(rng);
      ASSERT_EQ(argmax(x.data(), n), scalar_argmax(x)) << n;
    }
  }
}

TEST(Argmax, FirstOfEqualMaximaWinsEverywhere) {
  for (int n : {7, 256, 300, 1000}) {
    for (int a = 0; a < n; a += 37) {
      for (int b = a + 1; b < n; b += 53) {
        std::vector<float> x(static_cast<size_t>(n), -1.0f);
        x[static_cast<size_t>(a)] = x[static_cast<size_t>(b)] = 5.0f;
        ASSERT_EQ(argmax(x.data(), n), a) << n << " " << a << " " << b;
      }
    }
  }
}

TEST(Argmax, BannedTokensAndTailMaxima) {
  std::vector<float> x(300, -INFINITY);
  EXPECT_EQ(argmax(x.data(), 300), 0);  // nothing allowed: a defined answer, no crash
  x[299] = 1.0f;
  x[290] = 0.5f;
  EXPECT_EQ(argmax(x.data(), 300), 299);  // the tail after the last whole block
  x[10] = 2.0f;
  EXPECT_EQ(argmax(x.data(), 300), 10);
}
