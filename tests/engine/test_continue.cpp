// Continuing an answer from token ids (GenerateRequest::continue_from): a
// greedy continuation from the model's own prefix reproduces the rest of the
// original answer token for token; a chosen alternative is kept; bad ids and
// prefixes that do not fit are refused by name.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "core/utf8.hpp"
#include "engine/engine_fixture.hpp"

using namespace rmm;
using namespace rmm::test;

namespace {

engine::ContextParams small_ctx() {
  engine::ContextParams cp;
  cp.n_ctx = 256;
  cp.n_threads = 1;  // ctest runs two tests at once on two cores
  return cp;
}

struct Run {
  engine::GenerationResult result;
  std::vector<engine::TokenEvent> events;
};

Run run(engine::BatchEngine& eng, engine::GenerateRequest req) {
  Run out;
  out.result = eng.generate(std::move(req), [&](const engine::TokenEvent& ev) { out.events.push_back(ev); });
  return out;
}

constexpr int kN = 24, kK = 10;

}  // namespace

TEST(ContinueFrom, GreedyContinuationReproducesTheOriginalTokens) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  const auto prompt = model->tokenize_prompt("Once upon a time");
  auto req = greedy_request(prompt, kN);
  req.top_logprobs = 2;
  // Two engines, so that the continuation cannot lean on the first one's KV cache.
  engine::BatchEngine first(model, small_ctx()), second(model, small_ctx());
  const auto original = run(first, req);
  ASSERT_EQ(original.result.tokens.size(), static_cast<size_t>(kN));

  auto cont = greedy_request(prompt, kN - kK);
  cont.top_logprobs = 2;
  cont.continue_from.assign(original.result.tokens.begin(), original.result.tokens.begin() + kK);
  const auto again = run(second, cont);
  ASSERT_EQ(again.result.tokens.size(), static_cast<size_t>(kN - kK));
  EXPECT_EQ(again.result.tokens,
            std::vector<engine::Token>(original.result.tokens.begin() + kK, original.result.tokens.end()));
  ASSERT_EQ(again.events.size(), static_cast<size_t>(kN - kK));
  for (size_t i = 0; i < again.events.size(); ++i) {
    const auto& ev = again.events[i];
    const auto& was = original.events[i + kK];
    EXPECT_EQ(ev.index, static_cast<int>(i) + kK) << "events count on from the prefix";
    EXPECT_EQ(ev.token, was.token) << i;
    EXPECT_EQ(ev.text, was.text) << i;
    EXPECT_NEAR(ev.logprob, was.logprob, 1e-3) << i;
    EXPECT_NEAR(ev.entropy, was.entropy, 1e-3) << i;
  }
  // The text is the whole answer: the prefix's, then the new tokens'.
  EXPECT_EQ(again.result.text, original.result.text);
  EXPECT_EQ(again.result.stop_reason, engine::StopReason::Length) << "max_tokens counts new tokens only";
  EXPECT_EQ(again.result.timings.generated_tokens, kN - kK);
  EXPECT_EQ(again.result.timings.prompt_tokens, static_cast<int>(prompt.size()) + kK);

  // The same engine again: the slot's cached tokens serve the prefix, with the same answer.
  const auto cached = run(first, cont);
  EXPECT_EQ(cached.result.tokens, again.result.tokens);
  EXPECT_GT(cached.result.timings.cached_tokens, static_cast<int>(prompt.size()));
}

TEST(ContinueFrom, AChosenAlternativeIsKeptAndGenerationGoesOn) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  const auto prompt = model->tokenize_prompt("Once upon a time");
  engine::BatchEngine eng(model, small_ctx());
  auto req = greedy_request(prompt, kN);
  req.top_logprobs = 2;
  const auto original = run(eng, req);
  ASSERT_GT(original.events.size(), static_cast<size_t>(kK));
  const auto& fork = original.events[kK];
  ASSERT_EQ(fork.top.size(), 2u);
  ASSERT_NE(fork.top[1].token, fork.token);

  auto cont = greedy_request(prompt, 6);
  cont.logprobs = true;
  cont.continue_from.assign(original.result.tokens.begin(), original.result.tokens.begin() + kK);
  cont.continue_from.push_back(fork.top[1].token);
  const auto branch = run(eng, cont);
  const std::string prefix = engine::continue_from_text(*model, cont).text;
  EXPECT_EQ(branch.result.text.substr(0, prefix.size()), prefix);
  EXPECT_GT(branch.result.text.size(), prefix.size()) << "generation went on after the prefix";
  ASSERT_FALSE(branch.events.empty());
  EXPECT_EQ(branch.events.front().index, kK + 1);
  std::string joined;
  for (const auto& ev : branch.events) joined += ev.text;
  EXPECT_EQ(prefix + joined, branch.result.text);
}

TEST(ContinueFrom, AnUnfinishedCharacterGoesOutWithTheTokenThatCompletesIt) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::BatchEngine eng(model, small_ctx());
  // stories260K's byte tokens <0x00>..<0xFF> are ids 3..258; "€" is E2 82 AC.
  auto byte = [](int b) { return static_cast<engine::Token>(3 + b); };
  ASSERT_EQ(model->piece(byte(0xE2)), "\xE2");
  auto req = greedy_request(model->tokenize_prompt("Once upon a time"), 1);
  req.continue_from = {byte(0xE2), byte(0x82)};
  req.sampling.logit_bias = {{byte(0xAC), 100.0f}};  // make the model finish the character
  const auto r = run(eng, req);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].text, "\xE2\x82\xAC");
  EXPECT_EQ(r.events[0].piece, "\xAC");
  EXPECT_EQ(r.result.text, "\xE2\x82\xAC");

  // Left unfinished, the character becomes U+FFFD and the text stays valid UTF-8.
  // (No continuation byte may follow: any of them would finish some character.)
  req.sampling.logit_bias.clear();
  for (int b = 0x80; b <= 0xBF; ++b) req.sampling.logit_bias.emplace_back(byte(b), -INFINITY);
  const auto open = run(eng, req);
  EXPECT_TRUE(utf8::is_valid(open.result.text)) << open.result.text;
  EXPECT_EQ(open.result.text.substr(0, 3), "\xEF\xBF\xBD");
}

TEST(ContinueFrom, BadIdsAndPrefixesThatDoNotFitAreRefused) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::BatchEngine eng(model, small_ctx());
  auto expect_invalid = [&](engine::GenerateRequest r, const std::vector<std::string>& words) {
    try {
      eng.submit(std::move(r), {}, {});
      ADD_FAILURE() << "accepted a request that should fail";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
      for (const auto& w : words) EXPECT_NE(std::string(e.what()).find(w), std::string::npos) << e.what();
    }
  };
  auto r = greedy_request({model->bos()}, 4);
  r.continue_from = {400, 401, 512};
  expect_invalid(r, {"continue_from.tokens[2]", "512"});
  r.continue_from = {-1};
  expect_invalid(r, {"continue_from.tokens[0]", "-1"});
  r.continue_from.assign(static_cast<size_t>(eng.n_ctx_seq()), 400);
  expect_invalid(r, {"continue_from", std::to_string(eng.n_ctx_seq())});
  EXPECT_EQ(eng.queued(), 0u);
}
