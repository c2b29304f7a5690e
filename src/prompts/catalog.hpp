#pragma once
// Templates kept in the store (rmm::store::TemplateStore): every save is a new
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
Template save(store::TemplateStore& s, const Template& t);

// Saves each starter whose id is not in the store (a starter the user changed
// is left alone; one they deleted comes back on the next open). Returns how many.
int seed_starters(store::TemplateStore& s);

// Saves `t` (its id must be set) as a new version unless it says exactly what
// the latest version of that id says (same_content): then `saved` is that
// version and `changed` false, so importing the same file twice adds nothing.
struct SaveOutcome {
  Template saved;
  bool changed = true;
};
SaveOutcome save_if_changed(store::TemplateStore& s, const Template& t);

// Whether two templates say the same: every field but id and version.
bool same_content(const Template& a, const Template& b);

// The latest version of the template called `name` (exact, case-insensitive), if any.
std::optional<Template> find_by_name(store::TemplateStore& s, const std::string& name);

// `name_or_id`: an id, else a template's exact name (case-insensitive). Throws
// NotFound naming what was asked for.
Template find(store::TemplateStore& s, const std::string& name_or_id, std::optional<int> version = {});

// An id for a new template named `name` that is not taken yet (name-2, name-3, ...).
std::string free_id(store::TemplateStore& s, const std::string& name);

}  // namespace rmm::prompts
