#include "app_core.hpp"

#include "cli/chat_template_flag.hpp"
#include "cli/registry_host.hpp"
#include "cli/serve_settings.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "engine/backend.hpp"
#include "models/memory_planner.hpp"

namespace rmm::desktop {

AppCore::~AppCore() {
  if (host_) {
    host_->cancel_all();
    host_->shutdown();
    host_.reset();
  }
}

// The engine and memory settings `rmm serve` reads from RMM_<NAME> and
// config.toml's [serve] table (there are no flags here), so that the app
// plans and loads a model as the server on this machine would: context,
// threads, batch sizes, flash attention, GPU layers, the chat template, the
// memory budget.
void AppCore::engine_settings(serving::HostOptions& ho) {
  const Config cfg = Config::load(Config::default_path());
  auto text = [&](std::string_view name) {
    const auto& s = cli::serve_setting(name);
    return cfg.get_string(std::string(s.section), std::string(s.key), std::string(s.default_text));
  };
  auto num = [&](std::string_view name) {
    const auto& s = cli::serve_setting(name);
    return static_cast<int>(cfg.get_int(std::string(s.section), std::string(s.key),
                                        std::stoll(std::string(s.default_text)), s.lo, s.hi));
  };
  ho.context.n_ctx = num("ctx-size");
  ho.context.n_threads = num("threads");
  ho.context.n_batch = num("batch-size");
  ho.context.n_ubatch = num("ubatch-size");
  const std::string fa = text("flash-attn");
  if (fa != "on" && fa != "off" && fa != "auto")
    throw Error(ErrorKind::InvalidArgument, "[serve] flash_attn must be on, off or auto");
  ho.context.flash_attn = fa == "on" ? 1 : fa == "off" ? 0 : -1;
  ho.gpu_layers = num("gpu-layers");
  ho.chat_template = cli::chat_template_argument(text("chat-template"));
  const std::string max_memory = text("max-memory");
  if (!max_memory.empty()) ho.budgets = models::parse_max_memory(max_memory, engine::devices());
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
  engine_settings(ho);
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
