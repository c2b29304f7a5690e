// Sampling options on a real model: seeds, grammars, JSON schema, logit bias.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "engine/engine_fixture.hpp"

using namespace rmm;
using namespace rmm::test;

namespace {

engine::ContextParams ctx512() {
  engine::ContextParams cp;
  cp.n_ctx = 512;
  cp.n_threads = 1;  // ctest runs two tests at once on two cores; spinning threads must not oversubscribe
  return cp;
}

engine::GenerateRequest sampled(std::vector<engine::Token> prompt, int64_t seed, int n) {
  engine::GenerateRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 1.0f;
  r.sampling.top_k = 0;
  r.sampling.top_p = 1.0f;
  r.sampling.min_p = 0.0f;
  r.sampling.seed = seed;
  r.max_tokens = n;
  r.ignore_eos = true;
  return r;
}

}  // namespace

TEST(Sampling, SameSeedSameOutputDifferentSeedDifferentOutput) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::BatchEngine eng(model, ctx512());
  const auto a = eng.generate(sampled({model->bos()}, 42, 48));
  const auto b = eng.generate(sampled({model->bos()}, 42, 48));
  const auto c = eng.generate(sampled({model->bos()}, 43, 48));
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.seed, 42u);
  EXPECT_NE(a.tokens, c.tokens);
}

TEST(Sampling, RandomSeedIsReportedAndReproduces) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::BatchEngine eng(model, ctx512());
  const auto a = eng.generate(sampled({model->bos()}, -1, 32));
  const auto b = eng.generate(sampled({model->bos()}, a.seed, 32));
  EXPECT_EQ(a.tokens, b.tokens);
}

TEST(Sampling, GrammarRestrictsTheOutputToItsLanguage) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::BatchEngine eng(model, ctx512());
  for (int64_t seed = 1; seed <= 5; ++seed) {
    auto req = sampled({model->bos()}, seed, 16);
    req.ignore_eos = false;
    req.sampling.grammar = "root ::= (\"yes\" | \"no\") \".\"";
    const auto r = eng.generate(req);
    EXPECT_TRUE(r.text == "yes." || r.text == "no.") << r.text;
    EXPECT_EQ(r.stop_reason, engine::StopReason::EndOfGeneration);
  }
}

TEST(Sampling, JsonSchemaOutputParsesAndMatches) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::BatchEngine eng(model, ctx512());
  auto req = sampled({model->bos()}, 7, 64);
  req.ignore_eos = false;
  req.sampling.json_schema = R"({"type":"object","properties":{"color":{"enum":["red","green","blue"]},
      "ok":{"type":"boolean"}},"required":["color","ok"],"additionalProperties":false})";
  const auto r = eng.generate(req);
  ASSERT_EQ(r.stop_reason, engine::StopReason::EndOfGeneration) << r.text;
  const auto j = nlohmann::json::parse(r.text);
  EXPECT_TRUE(j.at("color") == "red" || j.at("color") == "green" || j.at("color") == "blue") << r.text;
  EXPECT_TRUE(j.at("ok").is_boolean());
}

TEST(Sampling, InvalidGrammarAndSchemaAreClearErrors) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::BatchEngine eng(model, ctx512());
  auto req = sampled({model->bos()}, 1, 4);
  req.sampling.grammar = "root ::= (";
  const auto r = eng.generate(req);
  EXPECT_EQ(r.stop_reason, engine::StopReason::Error);
  EXPECT_NE(r.error.find("grammar"), std::string::npos) << r.error;
  EXPECT_THROW(engine::json_schema_to_gbnf("{not json"), Error);
}

TEST(Sampling, LogitBiasBansTheGreedyChoice) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::BatchEngine eng(model, ctx512());
  auto req = greedy_request({model->bos()}, 1);
  const auto plain = eng.generate(req);
  ASSERT_EQ(plain.tokens.size(), 1u);
  req.sampling.logit_bias = {{plain.tokens[0], -INFINITY}};
  const auto banned = eng.generate(req);
  ASSERT_EQ(banned.tokens.size(), 1u);
  EXPECT_NE(banned.tokens[0], plain.tokens[0]);
  // A large positive bias forces a token.
  req.sampling.logit_bias = {{300, 100.0f}};
  EXPECT_EQ(eng.generate(req).tokens, std::vector<engine::Token>{300});
}

TEST(Sampling, RepeatPenaltyChangesARepetitiveGreedyAnswer) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::BatchEngine eng(model, ctx512());
  auto req = greedy_request({model->bos()}, 64);
  const auto plain = eng.generate(req);
  req.sampling.repeat_penalty = 1.5f;
  req.sampling.frequency_penalty = 0.5f;
  const auto penalised = eng.generate(req);
  EXPECT_NE(plain.tokens, penalised.tokens);
}
