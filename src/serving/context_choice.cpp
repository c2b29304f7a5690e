// Where a model goes and with what context: the context settings a load may
// take, the memory plan that fits the devices (evicting idle models to make
// room), and whether a loaded model holds what a request needs.
#include <algorithm>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/units.hpp"
#include "gguf/model_info.hpp"
#include "gguf/reader.hpp"
#include "models/model_kind.hpp"
#include "serving/model_host.hpp"

namespace rmm::serving {

namespace {

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

}  // namespace

std::string context_overflow(const HostedModel& m, size_t tokens, size_t answer_tokens) {
  const int holds = m.generator->shape().n_ctx_seq;
  if (tokens < static_cast<size_t>(holds)) return "";
  std::string out =
      "the prompt has " + std::to_string(tokens) + " tokens" +
      (answer_tokens ? " (" + std::to_string(answer_tokens) + " of them continue_from's)" : "") +
      " but a conversation with model '" + m.id + "' holds " + std::to_string(holds) + " here";
  if (m.n_ctx_train > holds) {
    out += " (it was trained on " + std::to_string(m.n_ctx_train) +
           "): send \"num_ctx\" for more, or start rmm serve with a larger -c or a smaller --parallel";
  } else {
    out += ", all the model was trained on: shorten the conversation";
  }
  return out;
}

bool ModelHost::needs_more_context(const HostedModel& m, const UseOptions& use) {
  return use.num_ctx > 0 && use.num_ctx > m.generator->shape().n_ctx_seq;
}

std::vector<models::DeviceBudget> ModelHost::available_locked(
    const std::vector<std::shared_ptr<HostedModel>>& without) const {
  auto out = budgets_;
  for (auto& b : out) {
    for (const auto& [path, m] : models_) {
      if (std::find(without.begin(), without.end(), m) != without.end()) continue;
      b.bytes -= std::min(b.bytes, m->plan.need_on(b.device));
    }
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

struct ModelHost::FitInput {
  gguf::GgufFile file;
  gguf::ModelInfo info;
  std::vector<engine::ContextParams> choices;
  models::PlanRequest req;
  int trained = 0;
};

ModelHost::FitInput ModelHost::fit_input(const std::filesystem::path& path, const std::string& id,
                                         const UseOptions& use) const {
  if (const auto format = models::conversion_format(path))
    throw Error(ErrorKind::InvalidArgument, "'" + path.filename().string() + "' holds " + *format +
                                                " weights, which need conversion to GGUF first (llama.cpp's "
                                                "convert_hf_to_gguf.py); rmm serves .gguf files");
  FitInput in;
  in.file = gguf::read_file(path);
  in.info = gguf::derive_model_info(in.file);
  in.trained = static_cast<int>(in.info.context_length);
  if (use.num_ctx > 0 && in.trained > 0 && use.num_ctx > in.trained)
    throw Error(ErrorKind::InvalidArgument, "num_ctx " + std::to_string(use.num_ctx) +
                                                " is more than model '" + id + "' was trained on (" +
                                                std::to_string(in.trained) + " tokens)");
  in.choices = context_choices(options_, in.trained, use.num_ctx);
  in.req.gpu_layers = options_.gpu_layers;
  // A worker process sets up its own GPU context; in-process, the server's serves every model.
  if (!options_.worker_exe.empty()) in.req.gpu_process_overhead = models::kGpuProcessContext;
  return in;
}

ModelHost::Fit ModelHost::fit_locked(const FitInput& in,
                                     const std::vector<models::DeviceBudget>& free) const {
  Fit out;
  out.placement.n_ctx_train = in.trained;
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
  auto choice = choose_context(in.choices, in.file, in.info, in.req, capped_locked(room, free, candidates));
  auto& plan = out.placement.plan;
  plan = choice.plan;
  out.placement.context = choice.context;
  auto req = in.req;
  req.params = memory_params(out.placement.context);
  if (!plan.fits) {
    std::string busy;
    for (const auto& [p, m] : models_) {
      if (m->pinned || !m->idle())
        busy += (busy.empty() ? "" : ", ") + m->id + (m->pinned ? " (pinned)" : " (busy)");
    }
    out.refusal = plan.message + (busy.empty() ? "" : "; kept loaded: " + busy);
    return out;
  }
  // Then the least recently used idle models go until it fits.
  std::sort(candidates.begin(), candidates.end(),
            [](const auto& a, const auto& b) { return a->last_use_ms < b->last_use_ms; });
  plan = models::plan_memory(in.file, in.info, req, capped_locked(available_locked(), free, out.evict));
  for (size_t i = 0; !plan.fits && i < candidates.size(); ++i) {
    out.evict.push_back(candidates[i]);
    plan = models::plan_memory(in.file, in.info, req,
                               capped_locked(available_locked(out.evict), free, out.evict));
  }
  if (!plan.fits) {
    out.evict.clear();
    out.refusal = plan.message;
  }
  return out;
}

ModelHost::Placement ModelHost::place(const std::filesystem::path& path, const std::string& id,
                                      const UseOptions& use,
                                      std::vector<std::shared_ptr<HostedModel>>& evicted) {
  const auto in = fit_input(path, id, use);
  // Outside the lock: it asks the devices.
  const auto free = options_.free_memory ? options_.free_memory() : models::free_now();
  std::lock_guard lock(mutex_);
  auto fit = fit_locked(in, free);
  if (!fit.refusal.empty()) throw Error(ErrorKind::OutOfMemory, fit.refusal);
  for (const auto& m : fit.evict) {
    spdlog::info("evicting {} (last used {} s ago) to load {}", m->id, (unix_ms() - m->last_use_ms) / 1000,
                 id);
    models_.erase(m->path);
    evicted.push_back(m);
  }
  pending_[path].plan = fit.placement.plan;
  return fit.placement;
}

LoadPreview ModelHost::preview(const std::string& path_or_id, const UseOptions& use) const {
  LoadPreview out;
  if (auto m = find(path_or_id)) {  // as acquire() does: a loaded model's names first
    out.path = m->path;
  } else {
    std::error_code ec;
    out.path = std::filesystem::weakly_canonical(resolve(path_or_id, use.local), ec);
    if (ec) out.path = resolve(path_or_id, use.local);
  }
  out.id = id_of(out.path);
  const auto in = fit_input(out.path, out.id, use);
  out.n_ctx_train = in.trained;
  const auto free = options_.free_memory ? options_.free_memory() : models::free_now();
  std::lock_guard lock(mutex_);
  if (auto it = models_.find(out.path); it != models_.end() && !needs_more_context(*it->second, use)) {
    const auto& m = *it->second;
    out.loaded = true;
    out.plan = m.plan;
    const auto shape = m.generator->shape();
    out.context.n_seq = shape.n_seq;
    out.context.n_ctx = shape.n_ctx;
    return out;
  }
  auto fit = fit_locked(in, free);
  out.plan = std::move(fit.placement.plan);
  out.context = fit.placement.context;
  out.refusal = std::move(fit.refusal);
  for (const auto& m : fit.evict) out.evict.push_back(m->id);
  return out;
}

}  // namespace rmm::serving
