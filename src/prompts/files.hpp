#pragma once
// Templates as JSON files: import from any path, export to
// $RMM_HOME/prompts/<id>.json (or a path given), written atomically.
#include <filesystem>

#include "prompts/template.hpp"

namespace rmm::prompts {

// Reads and validates one template file (at most kMaxTemplateBytes). Throws
// rmm::Error: NotFound for a missing file, TemplateError (prefixed with the
// path) for a bad template.
Template import_file(const std::filesystem::path& path);

// $RMM_HOME/prompts/<id>.json
std::filesystem::path default_export_path(const Template& t);

// Writes the template's JSON (pretty, with a final newline) through a temporary
// file and a rename, so a reader never sees half a file. Creates the folder.
void export_file(const Template& t, const std::filesystem::path& path);

}  // namespace rmm::prompts
