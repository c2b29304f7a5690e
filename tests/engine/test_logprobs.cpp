// The vectorised argmax must agree with the obvious scalar loop (first maximum
// wins), whatever the vocabulary size and wherever the maximum sits. The
// entropy of every token event must agree with one computed independently, in
// long double, from the logits llama.cpp gives for the same step.
#include <gtest/gtest.h>
#include <llama.h>

#include <cmath>
#include <limits>
#include <random>

#include "engine/engine_fixture.hpp"
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

namespace {

// H = -sum p log p with p = softmax(logits), the textbook way in long double.
long double reference_entropy(const float* logits, int n) {
  long double mx = -INFINITY;
  for (int i = 0; i < n; ++i) mx = std::max(mx, static_cast<long double>(logits[i]));
  long double z = 0;
  for (int i = 0; i < n; ++i) z += std::exp(static_cast<long double>(logits[i]) - mx);
  long double h = 0;
  for (int i = 0; i < n; ++i) {
    const long double p = std::exp(static_cast<long double>(logits[i]) - mx) / z;
    if (p > 0) h -= p * std::log(p);
  }
  return h;
}

void expect_relative(double got, long double want, const std::string& what) {
  EXPECT_LE(std::fabs(static_cast<long double>(got) - want), 1e-4L * std::fabs(want)) << what;
}

}  // namespace

TEST(Entropy, ClosedFormsAndExtremeLogits) {
  using rmm::engine::distribution;
  // Uniform over n: log n, whatever the (large) common offset.
  for (float offset : {0.0f, 1e4f, -1e4f}) {
    std::vector<float> x(1000, offset);
    EXPECT_NEAR(distribution(x.data(), 1000).entropy, std::log(1000.0), 1e-5) << offset;
  }
  // Banned tokens (-inf) carry no mass and must not turn the sum into NaN.
  std::vector<float> x(512, -INFINITY);
  x[3] = x[7] = 2.5f;
  EXPECT_NEAR(distribution(x.data(), 512).entropy, std::log(2.0), 1e-6);
  // One token far ahead of the rest: (almost) certain.
  std::vector<float> y(512, 0.0f);
  y[100] = 200.0f;
  EXPECT_NEAR(distribution(y.data(), 512).entropy, 0.0, 1e-6);
  // Random logits against the long double reference.
  std::mt19937 rng(7);
  std::normal_distribution<float> d(0.0f, 4.0f);
  std::vector<float> z(32000);
  for (auto& v : z) v = d(rng);
  expect_relative(distribution(z.data(), 32000).entropy, reference_entropy(z.data(), 32000), "random");
}

// The log-probabilities (log-sum-exp) and entropy against long double, for
// vocabularies around the 16-lane and 256-token blocks of the sums, logits
// over a wide range (down to where e^x underflows) and banned tokens.
TEST(Distribution, LogSumExpMatchesLongDoubleEverywhere) {
  std::mt19937 rng(11);
  std::normal_distribution<float> d(0.0f, 12.0f);
  for (int n : {1, 15, 16, 17, 255, 256, 257, 4097, 32000, 151936, 262144}) {
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = d(rng);
    if (n > 100) x[static_cast<size_t>(n / 3)] = -INFINITY;
    const auto dist = rmm::engine::distribution(x.data(), n);
    long double mx = -INFINITY, z = 0;
    for (float v : x) mx = std::max(mx, static_cast<long double>(v));
    for (float v : x) z += std::exp(static_cast<long double>(v) - mx);
    const std::string what = "n=" + std::to_string(n);
    EXPECT_EQ(dist.max_logit, static_cast<float>(mx)) << what;
    EXPECT_NEAR(dist.log_sum, static_cast<double>(std::log(z)), 2e-6) << what;
    for (int t : {0, n / 2, n - 1}) {
      const long double want = static_cast<long double>(x[static_cast<size_t>(t)]) - mx - std::log(z);
      if (std::isfinite(static_cast<double>(want))) {
        EXPECT_NEAR(dist.logprob(x.data(), t), static_cast<double>(want),
                    1e-5 * (1 + std::fabs(double(want))))
            << what << " token " << t;
      }
    }
    if (n > 1) expect_relative(dist.entropy, reference_entropy(x.data(), n), what);
  }
}

// The k best against a full sort (ties to the lower id), with repeated
// values, banned tokens and maxima in the tail after the last 16-lane block.
TEST(Distribution, TopLogprobsMatchAFullSort) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> level(0, 40);
  for (int n : {1, 3, 16, 17, 100, 1000, 32000, 32003}) {
    for (int k : {1, 5, 20}) {
      std::vector<float> x(static_cast<size_t>(n));
      for (auto& v : x) v = static_cast<float>(level(rng)) * 0.25f;  // many ties
      for (int i = 1; i < n; i += 7) x[static_cast<size_t>(i)] = -INFINITY;
      if (n > 2) x[static_cast<size_t>(n - 1)] = 50.0f;  // the best one in the tail
      std::vector<int> ids(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = i;
      std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) { return x[size_t(a)] > x[size_t(b)]; });
      const auto d = rmm::engine::distribution(x.data(), n);
      const auto top = rmm::engine::top_logprobs(x.data(), n, d, k);
      ASSERT_EQ(top.size(), static_cast<size_t>(std::min(k, n))) << n;
      for (size_t i = 0; i < top.size(); ++i) {
        EXPECT_EQ(top[i].first, ids[i]) << "n=" << n << " k=" << k << " rank " << i;
        EXPECT_EQ(top[i].second, d.logprob(x.data(), ids[i]));
      }
    }
  }
}

// A real model's steps: the logits come from llama.cpp's API directly (our own
// context, one token at a time), the entropies from the engine's token events.
TEST(Entropy, EveryEventMatchesTheFullDistributionOfARealModel) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  const auto prompt = model->tokenize_prompt("Once upon a time");
  constexpr int kSteps = 8;

  rmm::engine::ContextParams cp;
  cp.n_ctx = 256;
  cp.n_threads = 1;
  rmm::engine::BatchEngine eng(model, cp);
  auto req = rmm::test::greedy_request(prompt, kSteps);
  req.logprobs = true;
  std::vector<rmm::engine::TokenEvent> events;
  const auto r = eng.generate(req, [&](const rmm::engine::TokenEvent& ev) { events.push_back(ev); });
  ASSERT_EQ(events.size(), static_cast<size_t>(kSteps));

  llama_context_params lp = llama_context_default_params();
  lp.n_ctx = 256;
  lp.n_batch = 256;
  lp.n_threads = lp.n_threads_batch = 1;
  llama_context* ctx = llama_init_from_model(model->raw(), lp);
  ASSERT_NE(ctx, nullptr);
  const int n_vocab = model->n_vocab();
  std::vector<llama_token> next(prompt.begin(), prompt.end());
  for (int step = 0; step < kSteps; ++step) {
    ASSERT_EQ(llama_decode(ctx, llama_batch_get_one(next.data(), static_cast<int32_t>(next.size()))), 0);
    const float* logits = llama_get_logits_ith(ctx, -1);
    const auto& ev = events[static_cast<size_t>(step)];
    const std::string what = "step " + std::to_string(step);
    expect_relative(ev.entropy, reference_entropy(logits, n_vocab), what);
    EXPECT_GT(ev.entropy, 0.0f) << what;
    EXPECT_LE(ev.entropy, std::log(static_cast<float>(n_vocab)) + 1e-4f) << what;
    // Both sides follow the same greedy path.
    ASSERT_EQ(argmax(logits, n_vocab), ev.token) << what;
    next = {ev.token};
  }
  llama_free(ctx);
  EXPECT_EQ(r.tokens.size(), static_cast<size_t>(kSteps));
}

TEST(Entropy, NotComputedWhenLogprobsAreNotAsked) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  rmm::engine::ContextParams cp;
  cp.n_ctx = 128;
  cp.n_threads = 1;
  rmm::engine::BatchEngine eng(model, cp);
  std::vector<rmm::engine::TokenEvent> events;
  eng.generate(rmm::test::greedy_request({model->bos()}, 3),
               [&](const rmm::engine::TokenEvent& ev) { events.push_back(ev); });
  ASSERT_EQ(events.size(), 3u);
  for (const auto& ev : events) EXPECT_TRUE(std::isnan(ev.entropy));
}
