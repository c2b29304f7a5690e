#include "serving/model_host.hpp"

#include <algorithm>
#include <chrono>

#include "cache/response_cache.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/units.hpp"
#include "engine/backend.hpp"
#include "engine/engine_thread.hpp"
#include "gguf/model_info.hpp"
#include "gguf/reader.hpp"
#include "models/model_kind.hpp"
#include "worker/worker_client.hpp"

namespace rmm::serving {

namespace {

constexpr auto kReaperTick = std::chrono::milliseconds(200);

// The engine's context settings as the estimate takes them (BatchEngine's defaults applied).
gguf::MemoryParams memory_params(const engine::ContextParams& c) {
  gguf::MemoryParams p;
  p.n_ctx = static_cast<uint32_t>(c.n_ctx);
  p.n_seq = static_cast<uint32_t>(std::max(c.n_seq, 1));
  p.n_batch = static_cast<uint32_t>(std::max(c.n_batch, 1));
  p.n_ubatch = static_cast<uint32_t>(std::max(c.n_ubatch, 1));
  p.flash_attn = c.flash_attn != 0;  // llama.cpp's auto turns it on where supported
  p.kv_unified = c.kv_unified;
  return p;
}

// The context settings a load may take, best first: the configured ones, or
// (without -c) each slot with the training context up to kDefaultContextCap,
// then fewer slots (unless --parallel was given), then halved contexts.
// `num_ctx` (a request's need) raises the context per slot and is never cut.
std::vector<engine::ContextParams> context_choices(const HostOptions& o, int n_ctx_train, int num_ctx) {
  const int n_seq = std::max(o.context.n_seq, 1);
  auto with = [&](int per_slot, int slots) {
    auto c = o.context;
    c.n_seq = slots;
    c.n_ctx = o.context.kv_unified ? per_slot : per_slot * slots;
    return c;
  };
  if (o.context.n_ctx > 0) {
    const int per_slot = o.context.kv_unified ? o.context.n_ctx : o.context.n_ctx / n_seq;
    if (num_ctx <= per_slot) return {o.context};
    return {with(num_ctx, n_seq)};  // asked for more than -c gives: the same slots, each bigger
  }
  const int trained = n_ctx_train > 0 ? n_ctx_train : 4096;
  const int full = std::max(std::min(trained, kDefaultContextCap), num_ctx);
  std::vector<engine::ContextParams> out;
  const int fewest = o.fixed_slots ? n_seq : 1;
  for (int s = n_seq; s >= fewest; --s) out.push_back(with(full, s));
  const int floor = std::max(std::min(trained, kMinDefaultContext), num_ctx);
  for (int per_slot = full / 2; per_slot >= floor; per_slot /= 2) out.push_back(with(per_slot, fewest));
  return out;
}

struct Choice {
  engine::ContextParams context;
  models::MemoryPlan plan;
};

// The first context setting that fits with every layer on the GPU (where
// layers are left to the planner and a GPU is budgeted), else the first that
// fits at all; else the last (smallest) one, whose plan says why it does not fit.
Choice choose_context(const std::vector<engine::ContextParams>& choices, const gguf::GgufFile& file,
                      const gguf::ModelInfo& info, models::PlanRequest req,
                      const std::vector<models::DeviceBudget>& room) {
  const bool gpu = std::any_of(room.begin(), room.end(), [](const auto& b) { return b.gpu; });
  std::optional<Choice> first_fit;
  Choice last;
  for (const auto& c : choices) {
    req.params = memory_params(c);
    last = {c, models::plan_memory(file, info, req, room)};
    if (!last.plan.fits) continue;
    if (!gpu || req.gpu_layers >= 0 || last.plan.gpu_layers == last.plan.max_layers) return last;
    if (!first_fit) first_fit = last;
  }
  return first_fit ? *first_fit : last;
}

bool names(const HostedModel& m, const std::string& id) {
  return id == m.id || id == m.path.filename().string() || id == m.path.string();
}

}  // namespace

std::string model_id_for(const std::filesystem::path& path) {
  auto name = path.filename().string();
  if (name.size() > 5 && name.substr(name.size() - 5) == ".gguf") name.resize(name.size() - 5);
  return name;
}

std::string context_overflow(const HostedModel& m, size_t tokens) {
  const int holds = m.generator->shape().n_ctx_seq;
  if (tokens < static_cast<size_t>(holds)) return "";
  std::string out = "the prompt has " + std::to_string(tokens) + " tokens but a conversation with model '" +
                    m.id + "' holds " + std::to_string(holds) + " here";
  if (m.n_ctx_train > holds) {
    out += " (it was trained on " + std::to_string(m.n_ctx_train) +
           "): send \"num_ctx\" for more, or start rmm serve with a larger -c or a smaller --parallel";
  } else {
    out += ", all the model was trained on: shorten the conversation";
  }
  return out;
}

int64_t parse_keep_alive_ms(const std::string& text, const std::string& what) {
  try {
    if (!text.empty() && text[0] == '-') {
      parse_duration_ms(text.substr(1), what);  // still a duration, just negative
      return kKeepForever;
    }
    return parse_duration_ms(text, what);
  } catch (const Error&) {
    // parse_duration_ms's own hint ("0 for no limit") is the opposite of what 0 means here.
    throw Error(
        ErrorKind::InvalidArgument,
        what + " '" + text +
            "' is not a duration: use 90s, 5m, 1h (units ms, s, m, h, d, w; a bare number is "
            "seconds); 0 unloads the model as soon as its requests are done, -1 keeps it loaded for ever");
  }
}

int64_t keep_alive_seconds_ms(double seconds) {
  if (seconds < 0) return kKeepForever;
  if (seconds > 1e12) throw Error(ErrorKind::InvalidArgument, "keep_alive is too large");
  return static_cast<int64_t>(seconds * 1000);
}

int64_t reload_delay_ms(int crashes) {
  if (crashes <= 1) return 0;
  return std::min<int64_t>(int64_t{1000} << std::min(crashes - 2, 8), 30'000);
}

bool ModelHost::needs_more_context(const HostedModel& m, const UseOptions& use) {
  return use.num_ctx > 0 && use.num_ctx > m.generator->shape().n_ctx_seq;
}

bool HostedModel::lost() const { return worker && !worker->alive(); }

int64_t HostedModel::expires_at_ms() const {
  if (pinned || keep_alive_ms < 0) return kKeepForever;
  return last_use_ms + keep_alive_ms;
}

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

namespace {

// Whether `path`, with symlinks and ".." resolved, lies inside one of `dirs`.
bool inside_any(const std::filesystem::path& path, const std::vector<std::filesystem::path>& dirs) {
  std::error_code ec;
  const auto real = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
  if (ec) return false;
  for (const auto& d : dirs) {
    std::error_code dec;
    const auto dir = std::filesystem::weakly_canonical(std::filesystem::absolute(d, dec), dec);
    if (dec || dir.empty()) continue;
    auto [di, ri] = std::mismatch(dir.begin(), dir.end(), real.begin(), real.end());
    // A trailing "" element (a dir written with a final slash) matches anything below it.
    if ((di == dir.end() || (std::next(di) == dir.end() && di->empty())) && ri != real.end()) return true;
  }
  return false;
}

}  // namespace

void ModelHost::set_default_model(const std::filesystem::path& path, bool pinned) {
  std::lock_guard lock(mutex_);
  default_model_ = path;
  default_pinned_ = pinned;
}

std::string ModelHost::no_model_reason() const {
  if (find("")) return "";
  {
    std::lock_guard lock(mutex_);
    if (!default_model_.empty()) return "";
  }
  auto list = [](const std::vector<std::string>& ids) {
    std::string out;
    for (size_t i = 0; i < ids.size() && i < 10; ++i) out += (i ? ", " : "") + ids[i];
    if (ids.size() > 10) out += ", ... (" + std::to_string(ids.size()) + " in all)";
    return out;
  };
  std::vector<std::string> loaded_ids;
  for (const auto& m : loaded()) loaded_ids.push_back(m->id);
  if (!loaded_ids.empty())
    return "the request names no model and " + std::to_string(loaded_ids.size()) +
           " are loaded: name one in \"model\" (" + list(loaded_ids) + ")";
  std::vector<std::string> files;
  for (const auto& f : list_files()) files.push_back(f.id);
  if (files.empty())
    return "the request names no model and none is loaded or in " + options_.models_dir.string() +
           " (rmm pull fetches one)";
  return "the request names no model and none is loaded: name one in \"model\" (" + list(files) +
         "; GET /api/models lists them all)";
}

std::filesystem::path ModelHost::resolve(const std::string& path_or_id, bool local) const {
  std::filesystem::path fallback;
  {
    std::lock_guard lock(mutex_);
    fallback = default_model_;
  }
  // The model named at start goes by its file name, wherever the file lies.
  if (!fallback.empty() && (path_or_id.empty() || path_or_id == model_id_for(fallback) ||
                            path_or_id == fallback.filename().string()))
    return fallback;
  if (path_or_id.empty()) throw Error(ErrorKind::InvalidArgument, no_model_reason());
  const bool bare_name = path_or_id.find('/') == std::string::npos &&
                         path_or_id.find('\\') == std::string::npos &&
                         path_or_id.find("..") == std::string::npos;
  if (bare_name && options_.resolve_name) {
    if (auto path = options_.resolve_name(path_or_id)) return *path;
  }
  // A bare name is looked up in the models dir only: no separators or "..".
  if (bare_name && !options_.models_dir.empty()) {
    for (const auto& f : list_files()) {
      if (f.id == path_or_id || f.path.filename() == path_or_id) return f.path;
    }
  }
  if (!bare_name && !local && !options_.allow_model_paths) {
    auto dirs = options_.model_dirs;
    if (!options_.models_dir.empty()) dirs.push_back(options_.models_dir);
    // Decided before the file is looked at, so the answer says nothing about what exists outside.
    if (!inside_any(path_or_id, dirs))
      throw Error(ErrorKind::Forbidden,
                  "model paths outside the models folders are not accepted: name a model (GET /api/models "
                  "lists them) or put the file in a models folder (rmm serve --allow-model-paths accepts any "
                  "path)");
  }
  std::error_code ec;
  if ((!bare_name || local) && std::filesystem::is_regular_file(path_or_id, ec)) return path_or_id;
  throw Error(ErrorKind::NotFound, "model '" + path_or_id + "' not found (no such name, nor a .gguf in " +
                                       options_.models_dir.string() + ")");
}

std::vector<std::string> ModelHost::names_of(const std::filesystem::path& path) const {
  std::vector<std::string> out{model_id_for(path)};
  if (options_.names_of) {
    for (auto& n : options_.names_of(path)) out.push_back(std::move(n));
  }
  return out;
}

std::vector<models::DeviceBudget> ModelHost::available_locked() const {
  auto out = budgets_;
  for (auto& b : out) {
    for (const auto& [path, m] : models_) b.bytes -= std::min(b.bytes, m->plan.need_on(b.device));
    for (const auto& [path, p] : pending_) b.bytes -= std::min(b.bytes, p.plan.need_on(b.device));
  }
  return out;
}

std::vector<models::DeviceBudget> ModelHost::capped_locked(
    std::vector<models::DeviceBudget> room, const std::vector<models::DeviceBudget>& free,
    const std::vector<std::shared_ptr<HostedModel>>& freed) const {
  for (auto& b : room) {
    const auto f =
        std::find_if(free.begin(), free.end(), [&](const auto& x) { return x.device == b.device; });
    if (f == free.end()) continue;
    uint64_t limit = f->bytes;
    for (const auto& [path, p] : pending_) limit -= std::min(limit, p.plan.need_on(b.device));
    for (const auto& m : freed) limit += m->plan.need_on(b.device);
    b.bytes = std::min(b.bytes, limit);
  }
  return room;
}

std::vector<models::DeviceBudget> ModelHost::available() const {
  std::lock_guard lock(mutex_);
  return available_locked();
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
    if (auto it = crashes_.find(path); it != crashes_.end()) {
      const int64_t wait = it->second.last_ms + reload_delay_ms(it->second.count) - unix_ms();
      if (wait > 0) {
        const int seconds = static_cast<int>((wait + 999) / 1000);
        throw Error(ErrorKind::Unavailable,
                    "model '" + model_id_for(path) + "' crashed " + std::to_string(it->second.count) +
                        " times within 5 minutes (last: its worker " + it->second.cause +
                        "); it reloads in " + std::to_string(seconds) + " s",
                    seconds);
      }
    }
    pending_[path].result = promise.get_future().share();
  }
  ++loads_started_;
  std::vector<std::shared_ptr<HostedModel>> evicted;  // released outside the lock
  try {
    if (const auto format = models::conversion_format(path))
      throw Error(ErrorKind::InvalidArgument,
                  "'" + path.filename().string() + "' holds " + *format +
                      " weights, which need conversion to GGUF first (llama.cpp's "
                      "convert_hf_to_gguf.py); rmm serves .gguf files");
    const auto file = gguf::read_file(path);
    const auto info = gguf::derive_model_info(file);
    const int trained = static_cast<int>(info.context_length);
    if (use.num_ctx > 0 && trained > 0 && use.num_ctx > trained)
      throw Error(ErrorKind::InvalidArgument,
                  "num_ctx " + std::to_string(use.num_ctx) + " is more than model '" + model_id_for(path) +
                      "' was trained on (" + std::to_string(trained) + " tokens)");
    const auto choices = context_choices(options_, trained, use.num_ctx);
    models::PlanRequest req;
    req.gpu_layers = options_.gpu_layers;
    // A worker process sets up its own GPU context; in-process, the server's serves every model.
    if (!options_.worker_exe.empty()) req.gpu_process_overhead = models::kGpuProcessContext;
    models::MemoryPlan plan;
    engine::ContextParams context;
    // Outside the lock: it asks the devices.
    const auto free = options_.free_memory ? options_.free_memory() : models::free_now();
    {
      std::lock_guard lock(mutex_);
      // First against all that eviction could free: a model that cannot fit
      // even then is refused without unloading anything.
      auto room = available_locked();
      std::vector<std::shared_ptr<HostedModel>> candidates;
      for (const auto& [p, m] : models_) {
        if (m->pinned || !m->idle()) continue;
        candidates.push_back(m);
        for (auto& b : room) b.bytes += m->plan.need_on(b.device);
      }
      // The context is chosen as if every idle model were evicted: a new load comes first.
      auto choice = choose_context(choices, file, info, req, capped_locked(room, free, candidates));
      plan = choice.plan;
      context = choice.context;
      req.params = memory_params(context);
      if (!plan.fits) {
        std::string busy;
        for (const auto& [p, m] : models_) {
          if (m->pinned || !m->idle())
            busy += (busy.empty() ? "" : ", ") + m->id + (m->pinned ? " (pinned)" : " (busy)");
        }
        throw Error(ErrorKind::OutOfMemory, plan.message + (busy.empty() ? "" : "; kept loaded: " + busy));
      }
      // Then the least recently used idle models go until it fits.
      std::sort(candidates.begin(), candidates.end(),
                [](const auto& a, const auto& b) { return a->last_use_ms < b->last_use_ms; });
      plan = models::plan_memory(file, info, req, capped_locked(available_locked(), free, evicted));
      for (size_t i = 0; !plan.fits && i < candidates.size(); ++i) {
        spdlog::info("evicting {} (last used {} s ago) to load {}", candidates[i]->id,
                     (unix_ms() - candidates[i]->last_use_ms) / 1000, model_id_for(path));
        models_.erase(candidates[i]->path);
        evicted.push_back(candidates[i]);
        plan = models::plan_memory(file, info, req, capped_locked(available_locked(), free, evicted));
      }
      if (!plan.fits) throw Error(ErrorKind::OutOfMemory, plan.message);
      pending_[path].plan = plan;
    }
    evicted.clear();  // idle: their memory goes now
    spdlog::info("loading {}: {} planned ({} of {} layers on the GPU, {} slots x {} tokens)",
                 model_id_for(path), format_bytes(plan.total()), plan.gpu_layers, plan.max_layers,
                 context.n_seq,
                 context.kv_unified ? context.n_ctx : context.n_ctx / std::max(context.n_seq, 1));

    auto hosted = options_.loader ? options_.loader(path, plan, context, progress)
                                  : load_model(path, plan, context, progress);
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

std::shared_ptr<HostedModel> ModelHost::load_model(const std::filesystem::path& path,
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
  hosted->id = model_id_for(path);
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

void ModelHost::kill_hung() const {
  if (options_.worker_timeout_ms <= 0) return;
  for (const auto& m : loaded()) {
    if (!m->worker) continue;
    const int64_t silent = m->worker->silent_ms();
    if (silent < options_.worker_timeout_ms) continue;
    spdlog::error(
        "the worker serving {} (pid {}) has said nothing for {:.1f} s with requests waiting; killing it",
        m->id, m->worker->pid(), silent / 1000.0);
    m->worker->kill_hung("stopped responding for " + std::to_string(silent / 1000) + " s (--worker-timeout)");
  }
}

void ModelHost::collect_lost() const {
  std::vector<std::shared_ptr<HostedModel>> lost;  // released outside the lock
  {
    std::lock_guard lock(mutex_);
    const int64_t now = unix_ms();
    for (auto it = models_.begin(); it != models_.end();) {
      if (!it->second->lost()) {
        ++it;
        continue;
      }
      auto& c = crashes_[it->first];
      c.count = now - c.last_ms > kCrashWindowMs ? 1 : c.count + 1;
      c.last_ms = now;
      c.cause = it->second->worker->exit_cause();
      spdlog::warn("model {} is gone: its worker {} (crash {} in a row; next load {})", it->second->id,
                   c.cause, c.count,
                   reload_delay_ms(c.count) ? "in " + std::to_string(reload_delay_ms(c.count) / 1000) + " s"
                                            : std::string("on the next request"));
      lost.push_back(it->second);
      it = models_.erase(it);
    }
  }
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

std::shared_ptr<HostedModel> ModelHost::find(const std::string& id) const {
  const auto all = loaded();
  if (all.empty()) return nullptr;
  if (id.empty()) {
    std::filesystem::path fallback;
    {
      std::lock_guard lock(mutex_);
      fallback = default_model_;
    }
    if (fallback.empty()) return all.size() == 1 ? all.front() : nullptr;
    for (const auto& m : all) {
      if (m->path == fallback) return m;
    }
    return nullptr;
  }
  for (const auto& m : all) {
    if (names(*m, id)) return m;
  }
  if (options_.resolve_name) {
    try {
      if (auto path = options_.resolve_name(id)) {
        for (const auto& m : all) {
          if (*path == m->path) return m;
        }
      }
    } catch (const Error&) {
      // an ambiguous or path-like name is no name of a loaded model
    }
  }
  return nullptr;
}

void ModelHost::cancel_all() {
  for (const auto& m : loaded()) m->generator->cancel_all();
}

void ModelHost::reap() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    reaper_wake_.wait_for(lock, kReaperTick, [this] { return stopping_.load(); });
    if (stopping_) break;
    lock.unlock();
    kill_hung();
    collect_lost();  // logs the crash soon, not only when the model is next asked for
    lock.lock();
    const int64_t now = unix_ms();
    std::vector<std::shared_ptr<HostedModel>> expired;
    for (auto it = models_.begin(); it != models_.end();) {
      auto& m = *it->second;
      if (!m.idle()) {
        m.last_use_ms = now;  // the keep-alive counts from the end of the last request
        ++it;
        continue;
      }
      const int64_t at = m.expires_at_ms();
      if (at != kKeepForever && now >= at) {
        expired.push_back(it->second);
        it = models_.erase(it);
      } else {
        ++it;
      }
    }
    if (expired.empty()) continue;
    lock.unlock();
    for (const auto& m : expired) spdlog::info("unloading {}: keep_alive expired", m->id);
    expired.clear();  // freed here, without the lock
    lock.lock();
  }
}

std::vector<ModelFile> ModelHost::list_files() const {
  std::vector<ModelFile> out;
  std::error_code ec;
  if (options_.catalog) {
    out = options_.catalog();
  } else if (!options_.models_dir.empty() && std::filesystem::is_directory(options_.models_dir, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(options_.models_dir, ec)) {
      if (!e.is_regular_file(ec) || e.path().extension() != ".gguf") continue;
      const auto mtime = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::file_clock::to_sys(e.last_write_time(ec)).time_since_epoch())
                             .count();
      out.push_back({model_id_for(e.path()), e.path(), e.file_size(ec), mtime});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

}  // namespace rmm::serving
