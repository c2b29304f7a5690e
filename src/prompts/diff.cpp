#include "prompts/diff.hpp"

namespace rmm::prompts {

using json = nlohmann::json;

json diff(const Template& from, const Template& to) {
  json fields = json::object();
  auto field = [&](const char* name, const json& a, const json& b) {
    if (a != b) fields[name] = {{"old", a}, {"new", b}};
  };
  field("name", from.name, to.name);
  field("description", from.description, to.description);
  field("tags", from.tags, to.tags);

  json added = json::array(), removed = json::array(), changed = json::array();
  const size_t n = std::max(from.blocks.size(), to.blocks.size());
  for (size_t i = 0; i < n; ++i) {
    if (i >= from.blocks.size()) {
      added.push_back({{"index", i}, {"block", to_json(to.blocks[i])}});
    } else if (i >= to.blocks.size()) {
      removed.push_back({{"index", i}, {"block", to_json(from.blocks[i])}});
    } else if (!(from.blocks[i] == to.blocks[i])) {
      changed.push_back({{"index", i}, {"old", to_json(from.blocks[i])}, {"new", to_json(to.blocks[i])}});
    }
  }
  json blocks = {
      {"added", std::move(added)}, {"removed", std::move(removed)}, {"changed", std::move(changed)}};

  json vadded = json::array(), vremoved = json::array(), vchanged = json::array();
  for (const auto& v : from.variables) {
    const Variable* w = to.find_variable(v.name);
    if (!w) {
      vremoved.push_back(to_json(v));
    } else if (!(v == *w)) {
      vchanged.push_back({{"name", v.name}, {"old", to_json(v)}, {"new", to_json(*w)}});
    }
  }
  for (const auto& w : to.variables) {
    if (!from.find_variable(w.name)) vadded.push_back(to_json(w));
  }
  json variables = {
      {"added", std::move(vadded)}, {"removed", std::move(vremoved)}, {"changed", std::move(vchanged)}};

  return {{"id", to.id},
          {"from", from.version},
          {"to", to.version},
          {"fields", std::move(fields)},
          {"blocks", std::move(blocks)},
          {"variables", std::move(variables)}};
}

}  // namespace rmm::prompts
