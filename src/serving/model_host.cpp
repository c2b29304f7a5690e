// The host's core: its lifetime and background threads, acquiring a model
// (waiting for a load in progress, planning and loading it), and what is
// loaded. Placement is in context_choice.cpp, loading in model_loader.cpp,
// expiry and crashes in model_reaper.cpp, names in model_names.cpp.
#include "serving/model_host.hpp"

#include <algorithm>

#include "cache/response_cache.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/units.hpp"
#include "engine/backend.hpp"
#include "worker/worker_client.hpp"

namespace rmm::serving {

ModelHost::ModelHost(HostOptions options) : options_(std::move(options)) {
  budgets_ = options_.budgets.empty() ? models::default_budgets(engine::devices()) : options_.budgets;
  reaper_ = std::thread([this] { reap(); });
}

ModelHost::~ModelHost() {
  shutdown();
  unload();
}

void ModelHost::run_in_background(std::function<void()> work) {
  std::vector<Background> finished;
  {
    std::lock_guard lock(background_mutex_);
    if (stopping_) throw Error(ErrorKind::Cancelled, "the server is shutting down");
    // Threads whose work ended are joined here, so that they do not pile up.
    auto keep =
        std::partition(background_.begin(), background_.end(), [](const auto& b) { return !*b.done; });
    std::move(keep, background_.end(), std::back_inserter(finished));
    background_.erase(keep, background_.end());
    auto done = std::make_shared<std::atomic<bool>>(false);
    background_.push_back({std::thread([work = std::move(work), done] {
                             work();
                             *done = true;
                           }),
                           done});
  }
  for (auto& b : finished) b.thread.join();
}

void ModelHost::shutdown() {
  stopping_ = true;
  reaper_wake_.notify_all();
  cancel_all();
  std::vector<Background> threads;
  {
    std::lock_guard lock(background_mutex_);
    threads.swap(background_);
  }
  for (auto& b : threads) b.thread.join();
  if (reaper_.joinable()) reaper_.join();
}

void ModelHost::set_default_model(const std::filesystem::path& path, bool pinned) {
  std::lock_guard lock(mutex_);
  default_model_ = path;
  default_pinned_ = pinned;
}

void ModelHost::touch(HostedModel& m, const UseOptions& use) const {
  m.last_use_ms = unix_ms();
  if (use.keep_alive_ms) m.keep_alive_ms = *use.keep_alive_ms;
  if (use.pin) m.pinned = *use.pin;
}

std::shared_ptr<HostedModel> ModelHost::acquire(const std::string& path_or_id, const UseOptions& use,
                                                const std::function<void(float)>& progress) {
  if (stopping_) throw Error(ErrorKind::Cancelled, "the server is shutting down");
  if (auto m = find(path_or_id)) {  // find() first takes out models whose worker died
    if (auto same = reuse(m, use)) return same;
  }
  std::error_code ec;
  auto path = std::filesystem::weakly_canonical(resolve(path_or_id, use.local), ec);
  if (ec) path = resolve(path_or_id, use.local);
  // Outside the lock: the catalog may scan the models folders.
  const std::string id = id_of(path);
  std::promise<std::shared_ptr<HostedModel>> promise;
  {
    std::unique_lock lock(mutex_);
    if (auto it = models_.find(path); it != models_.end()) {
      auto m = it->second;
      lock.unlock();
      if (auto same = reuse(m, use)) return same;
      m.reset();  // its memory goes now, outside the lock
      lock.lock();
    }
    if (auto it = pending_.find(path); it != pending_.end()) {
      // Someone is loading it: wait for that load rather than load it twice.
      auto result = it->second.result;
      lock.unlock();
      auto m = result.get();  // rethrows that load's error
      if (needs_more_context(*m, use))
        throw Error(ErrorKind::Unavailable,
                    "model '" + m->id + "' was just loaded with " +
                        std::to_string(m->generator->shape().n_ctx_seq) +
                        " tokens per conversation; retry for num_ctx " + std::to_string(use.num_ctx),
                    1);
      touch(*m, use);
      return m;
    }
    check_crash_backoff_locked(path, id);
    pending_[path].result = promise.get_future().share();
  }
  ++loads_started_;
  std::vector<std::shared_ptr<HostedModel>> evicted;  // released outside the lock
  try {
    const auto [plan, context, trained] = place(path, id, use, evicted);
    evicted.clear();  // idle: their memory goes now
    spdlog::info("loading {}: {} planned ({} of {} layers on the GPU, {} slots x {} tokens)", id,
                 format_bytes(plan.total()), plan.gpu_layers, plan.max_layers, context.n_seq,
                 context.kv_unified ? context.n_ctx : context.n_ctx / std::max(context.n_seq, 1));

    auto hosted = options_.loader ? options_.loader(path, plan, context, progress)
                                  : load_model(path, id, plan, context, progress);
    hosted->id = id;  // whatever the loader named it: the one name the server shows
    hosted->created = unix_ms() / 1000;
    hosted->keep_alive_ms = options_.keep_alive_ms;
    hosted->n_ctx_train = trained;
    {
      std::lock_guard lock(mutex_);
      if (path == default_model_ && default_pinned_) hosted->pinned = true;
    }
    touch(*hosted, use);
    if (options_.cache) options_.cache->model_loaded(path);  // hashed in the background
    {
      std::lock_guard lock(mutex_);
      models_[path] = hosted;
      pending_.erase(path);
    }
    promise.set_value(hosted);
    return hosted;
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      pending_.erase(path);
    }
    promise.set_exception(std::current_exception());
    throw;
  }
}

std::shared_ptr<HostedModel> ModelHost::reuse(std::shared_ptr<HostedModel> m, const UseOptions& use) {
  if (!needs_more_context(*m, use)) {
    touch(*m, use);
    return m;
  }
  if (m->n_ctx_train > 0 && use.num_ctx > m->n_ctx_train)  // checked before the model is taken out
    throw Error(ErrorKind::InvalidArgument, "num_ctx " + std::to_string(use.num_ctx) +
                                                " is more than model '" + m->id + "' was trained on (" +
                                                std::to_string(m->n_ctx_train) + " tokens)");
  if (!m->idle())
    throw Error(ErrorKind::Unavailable,
                "model '" + m->id + "' holds " + std::to_string(m->generator->shape().n_ctx_seq) +
                    " tokens per conversation and is busy; it is reloaded for num_ctx " +
                    std::to_string(use.num_ctx) + " once its requests end",
                1);
  spdlog::info("reloading {}: a request needs {} tokens per conversation, it holds {}", m->id, use.num_ctx,
               m->generator->shape().n_ctx_seq);
  std::lock_guard lock(mutex_);
  if (auto it = models_.find(m->path); it != models_.end() && it->second == m) models_.erase(it);
  return nullptr;
}

void ModelHost::unload() {
  std::map<std::filesystem::path, std::shared_ptr<HostedModel>> old;
  {
    std::lock_guard lock(mutex_);
    old.swap(models_);
  }
  // Requests holding a model keep it alive until they end; cancel them so that is soon.
  for (auto& [path, m] : old) m->generator->cancel_all();
}

bool ModelHost::unload(const std::string& id) {
  auto m = find(id);
  if (!m || id.empty()) return false;
  {
    std::lock_guard lock(mutex_);
    models_.erase(m->path);
  }
  m->generator->cancel_all();
  return true;
}

bool ModelHost::pin(const std::string& id, bool pinned) {
  auto m = find(id);
  if (!m || id.empty()) return false;
  m->pinned = pinned;
  return true;
}

std::vector<std::shared_ptr<HostedModel>> ModelHost::loaded() const {
  collect_lost();
  std::vector<std::shared_ptr<HostedModel>> out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [path, m] : models_) out.push_back(m);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a->last_use_ms > b->last_use_ms; });
  return out;
}

std::vector<int> ModelHost::worker_pids() const {
  std::vector<int> out;
  std::lock_guard lock(mutex_);
  for (const auto& [path, m] : models_) {
    if (m->worker && m->worker->alive()) out.push_back(m->worker->pid());
  }
  return out;
}

std::shared_ptr<HostedModel> ModelHost::current() const {
  auto all = loaded();
  return all.empty() ? nullptr : all.front();
}

bool ModelHost::loading() const {
  std::lock_guard lock(mutex_);
  return !pending_.empty();
}

bool ModelHost::loading(const std::string& path_or_id) const {
  std::filesystem::path path;
  try {
    std::error_code ec;
    path = std::filesystem::weakly_canonical(resolve(path_or_id), ec);
  } catch (const Error&) {
    return false;
  }
  std::lock_guard lock(mutex_);
  return pending_.count(path) > 0;
}

void ModelHost::cancel_all() {
  for (const auto& m : loaded()) m->generator->cancel_all();
}

}  // namespace rmm::serving
