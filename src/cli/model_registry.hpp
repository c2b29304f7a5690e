#pragma once
// The model registry as the CLI sees it: $RMM_HOME/models (or [serve]
// models_dir) plus [models] extra_dirs, indexed in the database `rmm serve`
// uses ([serve] database, RMM_DATABASE, default $RMM_HOME/rmm.db).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "models/registry.hpp"
#include "store/store.hpp"

namespace rmm::cli {

struct LocalRegistry {
  std::filesystem::path models_dir;  // the main models dir (the first scanned)
  std::unique_ptr<store::Store> store;
  std::unique_ptr<models::Registry> registry;  // uses *store
};

// Opens the registry (`database` "" = the configured one); `hash`: compute
// missing sha256 values on a background thread.
LocalRegistry open_local_registry(const std::string& database = "", bool hash = false);

struct ResolvedModel {
  std::string path;         // the file to load
  int64_t registry_id = 0;  // the registry's model, 0 when the argument was a file path
  std::string name;         // what to call it: the registry's short name, else the file's stem
};

// The MODEL argument of `rmm run` / `rmm chat`: an existing file as it is,
// else a registry name (after a scan, so new files are found). A name that
// is a path (has '/', '\\' or "..") but no file is InvalidArgument.
ResolvedModel resolve_model_argument(const std::string& arg);

// Counts a use of a registry model and keeps the speed when given; a
// failure is only logged (the run itself succeeded).
void record_model_use(int64_t registry_id, const std::optional<store::ModelSpeed>& speed);

}  // namespace rmm::cli
