#include "engine/engine_fixture.hpp"

#include <map>
#include <mutex>
#include <sstream>

namespace rmm::test {

std::shared_ptr<engine::Model> shared_model_loaded(const std::string& file) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<engine::Model>> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(file); it != cache.end()) return it->second;
  const auto path = shared_model(file);
  if (path.empty()) return nullptr;
  engine::LoadParams lp;
  lp.path = path;
  return cache[file] = engine::Model::load(lp);
}

std::vector<engine::Token> parse_ids(const std::string& ids) {
  std::vector<engine::Token> out;
  std::istringstream in(ids);
  engine::Token t;
  while (in >> t) out.push_back(t);
  return out;
}

engine::GenerateRequest greedy_request(std::vector<engine::Token> prompt, int max_tokens) {
  engine::GenerateRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.max_tokens = max_tokens;
  return r;
}

}  // namespace rmm::test
