#include "cli/model_registry.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/database.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/paths.hpp"
#include "models/short_name.hpp"

namespace rmm::cli {

LocalRegistry open_local_registry(const std::string& database, bool hash) {
  const Config cfg = Config::load(Config::default_path());
  const std::string location =
      database.empty() ? cfg.get_string("serve", "database", store::default_store_location()) : database;
  LocalRegistry r;
  r.store = open_database(location);
  models::RegistryOptions opts;
  opts.dirs = models::model_dirs(cfg, cfg.get_string("serve", "models_dir", paths::models_dir().string()));
  opts.hash_in_background = hash;
  r.models_dir = opts.dirs.front();
  r.registry = std::make_unique<models::Registry>(*r.store, std::move(opts));
  return r;
}

ResolvedModel resolve_model_argument(const std::string& arg) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(arg, ec)) return {arg, 0, std::filesystem::path(arg).stem().string()};
  // A path that is no file: a runtime error (exit 1), as for every file that is missing.
  if (models::looks_like_path(arg)) {
    if (std::filesystem::exists(arg, ec)) throw Error(ErrorKind::BadFile, arg + " is not a regular file");
    throw Error(ErrorKind::NotFound, arg + ": no such file");
  }
  LocalRegistry r = open_local_registry();
  r.registry->scan();
  const store::ModelRecord m = r.registry->resolve(arg);
  if (m.kind == "needs-conversion" || m.kind == "invalid") {
    std::string why = m.kind == "invalid" ? "is not a usable GGUF file" : "needs conversion to GGUF first";
    // The scan's reason (the GGUF reader's, as `rmm info` gives it).
    const auto meta = nlohmann::json::parse(m.metadata_json, nullptr, false);
    if (m.kind == "invalid" && meta.is_object() && meta.contains("error") && meta["error"].is_string())
      why += ": " + meta["error"].get<std::string>();
    throw Error(ErrorKind::BadFile, "model '" + m.short_name + "' (" + m.path + ") " + why);
  }
  return {m.path, m.id, m.short_name};
}

void record_model_use(int64_t registry_id, const std::optional<store::ModelSpeed>& speed) {
  if (registry_id == 0) return;
  try {
    LocalRegistry r = open_local_registry();
    r.registry->record_use(registry_id, speed);
  } catch (const std::exception& e) {
    spdlog::warn("model registry: could not record the use: {}", e.what());
  }
}

}  // namespace rmm::cli
