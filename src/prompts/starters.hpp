#pragma once
// The templates that ship with rmm: coding assistant, writing assistant, data
// analysis, summarize, translate and JSON extraction.
#include <vector>

#include "prompts/template.hpp"

namespace rmm::prompts {

// Parsed and validated; version 0 (the store numbers them when seeded).
const std::vector<Template>& starter_templates();

}  // namespace rmm::prompts
