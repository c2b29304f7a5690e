#pragma once
// What the desktop app holds of rmm's core, the same objects `rmm serve`
// builds: the store and model registry (same RMM_HOME, config and database)
// and the model host (engine, memory planner, workers). It lives on the
// backend's worker thread and is only touched there (Backend::call and the
// workers the backend runs); opened on first use so that the window shows
// before the database is read.
#include <filesystem>
#include <memory>
#include <optional>

#include "cli/model_registry.hpp"
#include "monitor_samples.hpp"
#include "serving/model_host.hpp"

namespace rmm::desktop {

class AppCore {
 public:
  AppCore() = default;
  ~AppCore();  // cancels what runs and ends the host's threads
  AppCore(const AppCore&) = delete;
  AppCore& operator=(const AppCore&) = delete;

  store::Store& store();
  models::Registry& registry();
  serving::ModelHost& host();
  const std::filesystem::path& models_dir();
  // Every generation the host runs ends up here (the Monitor's figures). Shared,
  // so that an engine thread ending late never outlives it; readable without opening the core.
  const std::shared_ptr<GenerationLog>& generations() const { return generations_; }

  // `rmm serve`'s engine and memory settings from RMM_<NAME> and config.toml's
  // [serve] (there are no flags here) into `ho`: the app plans and loads as the
  // server on this machine would. Throws rmm::Error naming a bad value.
  static void engine_settings(serving::HostOptions& ho);

 private:
  void open();

  std::optional<cli::LocalRegistry> local_;
  std::unique_ptr<serving::ModelHost> host_;
  std::shared_ptr<GenerationLog> generations_ = std::make_shared<GenerationLog>();
};

}  // namespace rmm::desktop
