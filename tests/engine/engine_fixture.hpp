#pragma once
// Shared helpers for engine tests: models are loaded once per process.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/batch_engine.hpp"
#include "engine/model.hpp"
#include "support/test_env.hpp"

namespace rmm::test {

// The shared model, loaded once; nullptr when the file is absent.
std::shared_ptr<engine::Model> shared_model_loaded(const std::string& file);

// Token ids from a space-separated list (as the shared models' README gives them).
std::vector<engine::Token> parse_ids(const std::string& ids);

engine::GenerateRequest greedy_request(std::vector<engine::Token> prompt, int max_tokens);

}  // namespace rmm::test

#define RMM_REQUIRE_LOADED_MODEL(var, file)                \
  const auto var = ::rmm::test::shared_model_loaded(file); \
  if (!var) GTEST_SKIP() << "shared model " << (file) << " is absent in " << ::rmm::test::shared_models_dir()
