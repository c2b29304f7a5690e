// Several sequences in one context: batching must not change results, and
// sequences join, leave, cancel and reuse cached prefixes.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "engine/engine_fixture.hpp"

using namespace rmm;
using namespace rmm::test;

namespace {

engine::ContextParams ctx(int n_seq, int n_ctx = 2048) {
  engine::ContextParams cp;
  cp.n_ctx = n_ctx;
  cp.n_seq = n_seq;
  cp.n_threads = 1;  // ctest runs two tests at once on two cores; spinning threads must not oversubscribe
  return cp;
}

}  // namespace

TEST(Batching, ParallelGreedySequencesMatchTheirSoloRuns) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  const std::vector<std::string> prompts = {"Once upon a time", "The dog", "Lily was sad because",
                                            "Tom had a big"};
  std::vector<std::vector<engine::Token>> solo;
  {
    engine::BatchEngine one(model, ctx(1, 512));
    for (const auto& p : prompts)
      solo.push_back(one.generate(greedy_request(model->tokenize_prompt(p), 40)).tokens);
  }
  engine::BatchEngine eng(model, ctx(4));
  std::vector<engine::GenerationResult> results(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    eng.submit(greedy_request(model->tokenize_prompt(prompts[i]), 40), {},
               [&results, i](const engine::GenerationResult& r) { results[i] = r; });
  }
  eng.run();
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(results[i].tokens, solo[i]) << prompts[i];
}

TEST(Batching, MoreRequestsThanSlotsQueueAndAllFinish) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::BatchEngine eng(model, ctx(2));
  int done = 0;
  std::vector<int> lengths;
  for (int i = 0; i < 5; ++i) {
    eng.submit(greedy_request({model->bos()}, 8 + i), {}, [&](const engine::GenerationResult& r) {
      ++done;
      lengths.push_back(r.timings.generated_tokens);
    });
  }
  EXPECT_EQ(eng.queued(), 5u);
  eng.step();
  EXPECT_EQ(eng.running(), 2u);
  EXPECT_EQ(eng.queued(), 3u);
  eng.run();
  EXPECT_EQ(done, 5);
  EXPECT_EQ(eng.running(), 0u);
  std::sort(lengths.begin(), lengths.end());
  EXPECT_EQ(lengths, (std::vector<int>{8, 9, 10, 11, 12}));
}

TEST(Batching, CancelFromAnotherThreadStopsWithinOneToken) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::BatchEngine eng(model, ctx(1));
  auto req = greedy_request({model->bos()}, -1);
  req.ignore_eos = true;
  std::atomic<int> seen{0};
  std::atomic<int> seen_at_cancel{-1};
  engine::GenerationResult result;
  const auto id = eng.submit(
      req, [&](const engine::TokenEvent&) { ++seen; },
      [&](const engine::GenerationResult& r) { result = r; });
  std::thread canceller([&] {
    while (seen.load() < 5) std::this_thread::yield();
    seen_at_cancel = seen.load();
    eng.cancel(id);
  });
  eng.run();
  canceller.join();
  EXPECT_EQ(result.stop_reason, engine::StopReason::Cancelled);
  // The step in flight when cancel() ran may still finish one token.
  EXPECT_LE(result.timings.generated_tokens, seen_at_cancel.load() + 1);
}

TEST(Batching, CancelledWhileQueuedNeverRuns) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::BatchEngine eng(model, ctx(1));
  engine::GenerationResult a, b;
  eng.submit(greedy_request({model->bos()}, 4), {}, [&](const auto& r) { a = r; });
  const auto id = eng.submit(greedy_request({model->bos()}, 4), {}, [&](const auto& r) { b = r; });
  eng.cancel(id);
  eng.run();
  EXPECT_EQ(a.timings.generated_tokens, 4);
  EXPECT_EQ(b.stop_reason, engine::StopReason::Cancelled);
  EXPECT_EQ(b.timings.generated_tokens, 0);
}

TEST(Batching, NextChatTurnReusesTheCachedPrefixWithIdenticalOutput) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::BatchEngine eng(model, ctx(2));
  const auto first_prompt = model->tokenize_prompt("Once upon a time there was a boy.");
  const auto first = eng.generate(greedy_request(first_prompt, 24));
  auto second_prompt = first_prompt;
  second_prompt.insert(second_prompt.end(), first.tokens.begin(), first.tokens.end());
  const auto more = model->tokenize("He liked to", false, false);
  second_prompt.insert(second_prompt.end(), more.begin(), more.end());
  const auto second = eng.generate(greedy_request(second_prompt, 24));
  // Everything the first turn decoded is reused: its prompt and all answer tokens
  // but the last, which was sampled and never fed back.
  EXPECT_EQ(second.timings.cached_tokens, static_cast<int>(first_prompt.size() + first.tokens.size() - 1));

  engine::BatchEngine fresh(model, ctx(1));
  const auto reference = fresh.generate(greedy_request(second_prompt, 24));
  EXPECT_EQ(reference.timings.cached_tokens, 0);
  EXPECT_EQ(second.tokens, reference.tokens);
}

TEST(Batching, SequencesJoinWhileOthersAreGenerating) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::BatchEngine eng(model, ctx(2));
  engine::GenerationResult a, b;
  eng.submit(greedy_request({model->bos()}, 30), {}, [&](const auto& r) { a = r; });
  for (int i = 0; i < 10; ++i) eng.step();
  EXPECT_EQ(eng.running(), 1u);
  eng.submit(greedy_request(model->tokenize_prompt("The dog"), 10), {}, [&](const auto& r) { b = r; });
  eng.step();
  EXPECT_EQ(eng.running(), 2u);
  eng.run();
  engine::BatchEngine solo(model, ctx(1));
  EXPECT_EQ(a.tokens, solo.generate(greedy_request({model->bos()}, 30)).tokens);
  EXPECT_EQ(b.tokens, solo.generate(greedy_request(model->tokenize_prompt("The dog"), 10)).tokens);
}

// Sequences are sampled in parallel threads when several are in a step; each
// keeps its own sampler, so a seeded answer is the same batched or alone.
TEST(Batching, SeededSamplingIsTheSameBatchedOrAlone) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  auto sampled = [&](int64_t seed) {
    auto r = greedy_request({model->bos()}, 24);
    r.sampling.temperature = 0.9f;
    r.sampling.seed = seed;
    r.top_logprobs = 2;
    return r;
  };
  std::vector<std::vector<engine::Token>> alone;
  {
    engine::BatchEngine one(model, ctx(1, 512));
    for (int i = 0; i < 8; ++i) alone.push_back(one.generate(sampled(100 + i)).tokens);
  }
  auto cp = ctx(8);
  cp.n_threads = 2;
  engine::BatchEngine eng(model, cp);
  std::vector<std::vector<engine::Token>> batched(8);
  for (int i = 0; i < 8; ++i) {
    eng.submit(sampled(100 + i), {},
               [&batched, i](const engine::GenerationResult& r) { batched[i] = r.tokens; });
  }
  eng.run();
  EXPECT_EQ(batched, alone);
}

// With one KV cache shared by all sequences, several long requests can need more
// cells than it has: the batch that does not fit fails those requests with a
// clear error, nothing crashes, and the engine serves the next request.
TEST(Batching, SharedKvCacheOverflowFailsCleanlyAndRecovers) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  auto cp = ctx(4, 256);
  cp.kv_unified = true;
  engine::BatchEngine eng(model, cp);
  std::vector<engine::GenerationResult> results(4);
  for (int i = 0; i < 4; ++i) {
    std::vector<engine::Token> prompt(100, static_cast<engine::Token>(300 + i));
    prompt[0] = model->bos();
    eng.submit(greedy_request(prompt, 8), {},
               [&results, i](const engine::GenerationResult& r) { results[i] = r; });
  }
  eng.run();
  int failed = 0;
  for (const auto& r : results) {
    if (r.stop_reason == engine::StopReason::Error) {
      ++failed;
      EXPECT_NE(r.error.find("KV cache is full"), std::string::npos) << r.error;
    }
  }
  EXPECT_GT(failed, 0);  // 4 x 100 prompt tokens cannot fit 256 cells
  const auto after = eng.generate(greedy_request({model->bos()}, 8));
  EXPECT_EQ(after.stop_reason, engine::StopReason::Length) << after.error;
  EXPECT_EQ(after.timings.generated_tokens, 8);
}
