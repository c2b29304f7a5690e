#pragma once
// Templates kept in the store (rmm::store::Store): every save is a new
// version, starters are seeded when missing.
#include <optional>
#include <string>
#include <vector>

#include "prompts/template.hpp"
#include "store/store.hpp"

namespace rmm::prompts {

// The template a stored version holds, its version set from the store.
Template from_stored(const store::TemplateVersion& v);

// Validates and stores a new version of `t` (its id must be set); returns it
// with its version.
Template save(store::Store& s, const Template& t);

// Saves each starter whose id is not in the store (a starter the user changed
// is left alone; one they deleted comes back on the next open). Returns how many.
int seed_starters(store::Store& s);

// `name_or_id`: an id, else a template's exact name (case-insensitive). Throws
// NotFound naming what was asked for.
Template find(store::Store& s, const std::string& name_or_id, std::optional<int> version = {});

// An id for a new template named `name` that is not taken yet (name-2, name-3, ...).
std::string free_id(store::Store& s, const std::string& name);

}  // namespace rmm::prompts
