#pragma once
// Owns the model the server serves and the engine thread decoding for it.
// One model at a time for now; routes only see this interface, so several
// models with a memory planner can come in behind it.
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/batch_engine.hpp"
#include "engine/chat_format.hpp"
#include "engine/engine_thread.hpp"
#include "engine/model.hpp"

namespace rmm::cache {
class ResponseCache;
}

namespace rmm::server {

struct HostOptions {
  std::filesystem::path models_dir;
  engine::ContextParams context;  // n_seq = --parallel
  int gpu_layers = -1;
  std::string chat_template;  // "" : the model's own (chatml when it has none)
  size_t max_queue = 64;      // waiting requests past the busy slots; more get 503
  // Generations go through this response cache when set (not owned; outlives the host).
  cache::ResponseCache* cache = nullptr;
  // Model registry names (short names, aliases) → files; nullopt for an
  // unknown name, rmm::Error for an ambiguous one or a file that is gone. Optional.
  std::function<std::optional<std::filesystem::path>(const std::string&)> resolve_name;
};

struct HostedModel {
  std::string id;  // file name without .gguf
  std::filesystem::path path;
  std::shared_ptr<engine::Model> model;
  std::unique_ptr<engine::ChatFormatter> chat;
  std::unique_ptr<engine::EngineThread> engine;
  int64_t created = 0;  // unix time of the load
};

struct ModelFile {
  std::string id;
  std::filesystem::path path;
  uintmax_t size = 0;
};

class ModelHost {
 public:
  explicit ModelHost(HostOptions options);
  ~ModelHost();

  // Loads `path_or_id` (a path, or a name in the models dir), replacing the
  // current model. `progress` gets 0..1. Throws rmm::Error.
  std::shared_ptr<HostedModel> load(const std::string& path_or_id,
                                    const std::function<void(float)>& progress = {});
  void unload();
  // The loaded model if its id is `id` (or any loaded model when `id` is empty).
  std::shared_ptr<HostedModel> find(const std::string& id) const;
  std::shared_ptr<HostedModel> current() const;
  bool loading() const { return loading_.load(); }
  std::vector<ModelFile> list_files() const;
  std::filesystem::path resolve(const std::string& path_or_id) const;  // throws NotFound
  const HostOptions& options() const { return options_; }
  void cancel_all();

  // Runs `work` (a load a request asked for) on a thread the host owns, so
  // that it never outlives the host or the server it reports to.
  void run_in_background(std::function<void()> work);
  // Cancels a load in progress and waits for the background threads. Call it
  // before the server the work reports to goes away; also done on destruction.
  void shutdown();

 private:
  HostOptions options_;
  mutable std::mutex mutex_;
  std::shared_ptr<HostedModel> current_;
  std::atomic<bool> loading_{false};
  std::mutex load_mutex_;              // one load at a time
  std::atomic<bool> stopping_{false};  // cancels loads (llama.cpp checks it between tensors)
  std::mutex background_mutex_;
  std::vector<std::thread> background_;
};

std::string model_id_for(const std::filesystem::path& path);

}  // namespace rmm::server
