#include "cli/token_json.hpp"

#include "codec/generation_json.hpp"

namespace rmm::cli {

nlohmann::json done_json(const engine::GenerationResult& r) {
  nlohmann::json j = codec::result_json(r);
  j["done"] = true;
  return j;
}

}  // namespace rmm::cli
