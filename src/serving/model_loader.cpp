// Loading a model as planned: into this process (the engine on a thread), or
// into a supervised worker process with a vocabulary-only copy kept here.
#include <algorithm>

#include "core/log.hpp"
#include "engine/backend.hpp"
#include "engine/engine_thread.hpp"
#include "serving/model_host.hpp"
#include "worker/worker_client.hpp"

namespace rmm::serving {

std::shared_ptr<HostedModel> ModelHost::load_model(const std::filesystem::path& path, const std::string& id,
                                                   const models::MemoryPlan& plan,
                                                   const engine::ContextParams& context,
                                                   const std::function<void(float)>& progress) const {
  engine::LoadParams lp;
  lp.path = path;
  const bool has_gpu = std::any_of(budgets_.begin(), budgets_.end(), [](const auto& b) { return b.gpu; });
  lp.gpu_layers = has_gpu ? plan.gpu_layers : options_.gpu_layers;
  if (has_gpu && plan.gpu_layers > 0) lp.gpu_device = plan.gpu_device();  // the GPU it was planned on, only
  lp.cancel = &stopping_;
  auto hosted = std::make_shared<HostedModel>();
  hosted->id = id;
  hosted->path = path;
  hosted->plan = plan;
  if (options_.worker_exe.empty()) {
    if (progress) {
      lp.progress = [&progress](float p) {
        progress(p);
        return true;
      };
    }
    hosted->model = engine::Model::load(lp);
    hosted->generator =
        std::make_unique<engine::EngineThread>(std::make_unique<engine::BatchEngine>(hosted->model, context));
    hosted->description = hosted->model->description();
  } else {
    // The weights go to the worker; this process keeps what tokenizing and
    // chat formatting need, so requests are checked before they travel.
    engine::LoadParams vocab = lp;
    vocab.vocab_only = true;
    vocab.gpu_layers = 0;
    vocab.gpu_device.clear();
    hosted->model = engine::Model::load(vocab);
    worker::WorkerOptions wo;
    wo.exe = options_.worker_exe;
    wo.log_level = options_.worker_log_level;
    wo.load.model_id = hosted->id;
    wo.load.path = path.string();
    wo.load.gpu_layers = lp.gpu_layers;
    wo.load.gpu_device = lp.gpu_device;
    wo.load.mmap = lp.mmap;
    wo.load.context = context;
    wo.n_vocab = hosted->model->n_vocab();
    wo.progress = progress;
    wo.cancel = &stopping_;
    auto client = worker::WorkerClient::start(std::move(wo));
    hosted->worker = client.get();
    hosted->description = client->info().description;
    hosted->generator = std::move(client);
  }
  hosted->chat = std::make_unique<engine::ChatFormatter>(*hosted->model, options_.chat_template);
  if (hosted->chat->falls_back_to_chatml())
    spdlog::warn(
        "model {} has no chat template: chats use ChatML (rmm serve --chat-template chooses another)",
        hosted->id);
  return hosted;
}

}  // namespace rmm::serving
