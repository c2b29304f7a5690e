#pragma once
// A structured difference between two versions of a template:
//   {from, to,
//    fields: {name|description|tags: {old, new}},           only those that changed
//    blocks: {added: [{index, block}], removed: [{index, block}], changed: [{index, old, new}]},
//    variables: {added: [variable], removed: [variable], changed: [{name, old, new}]}}
// Blocks are compared by position; variables by name.
#include <nlohmann/json.hpp>

#include "prompts/template.hpp"

namespace rmm::prompts {

nlohmann::json diff(const Template& from, const Template& to);

}  // namespace rmm::prompts
