#include "app_core.hpp"

#include "cli/registry_host.hpp"
#include "cli/serve_settings.hpp"
#include "core/clock.hpp"

namespace rmm::desktop {

AppCore::~AppCore() {
  if (host_) {
    host_->cancel_all();
    host_->shutdown();
    host_.reset();
  }
}

void AppCore::open() {
  if (host_) return;
  // The [serve] keys of config.toml (models_dir, database) are the server's settings table's.
  cli::declare_serve_config_keys();
  local_.emplace(cli::open_local_registry());
  models::Registry& registry = *local_->registry;
  serving::HostOptions ho;
  ho.models_dir = local_->models_dir;
  cli::host_from_registry(ho, registry);
  ho.resolve_name = [&registry](const std::string& name) -> std::optional<std::filesystem::path> {
    if (auto m = registry.find(name)) return std::filesystem::path(m->path);
    return std::nullopt;
  };
  // One conversation at a time, and a model stays loaded until it is unloaded.
  ho.context.n_seq = 1;
  ho.fixed_slots = true;
  ho.keep_alive_ms = serving::kKeepForever;
  // On the engine thread, for every generation (chat, Prompt Architect): a copy into a short ring.
  ho.on_generation_done = [log = generations_](const serving::HostedModel& m,
                                               const engine::GenerationResult& r) {
    if (r.stop_reason == engine::StopReason::Error) return;
    const auto& t = r.timings;
    GenerationSample s;
    s.timings = {unix_ms(), t.prompt_tokens, t.prompt_ms, t.generated_tokens, t.generation_ms, t.queue_ms};
    s.model = m.id;
    s.tokens_per_second = t.generation_tokens_per_second();
    s.time_to_first_token_ms = t.queue_ms + t.prompt_ms;
    log->add(std::move(s));
  };
  host_ = std::make_unique<serving::ModelHost>(std::move(ho));
}

store::Store& AppCore::store() {
  open();
  return *local_->store;
}

models::Registry& AppCore::registry() {
  open();
  return *local_->registry;
}

serving::ModelHost& AppCore::host() {
  open();
  return *host_;
}

const std::filesystem::path& AppCore::models_dir() {
  open();
  return local_->models_dir;
}

}  // namespace rmm::desktop
