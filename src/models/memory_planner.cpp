#include "models/memory_planner.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/error.hpp"
#include "core/units.hpp"
#include "gguf/model_info.hpp"
#include "gguf/reader.hpp"
#include "models/hardware.hpp"

namespace rmm::models {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

bool is_gpu(const engine::Device& d) { return d.type == "gpu" || d.type == "igpu"; }

}  // namespace

std::vector<DeviceBudget> default_budgets(const std::vector<engine::Device>& devices) {
  std::vector<DeviceBudget> out;
  for (const auto& d : devices) {
    const uint64_t free = d.memory_free;
    out.push_back({d.name, is_gpu(d), free > kSafetyMargin ? free - kSafetyMargin : 0});
  }
  return out;
}

std::vector<DeviceBudget> free_now() {
  auto out = default_budgets(engine::devices());
  const uint64_t ram = parse_meminfo(read_small_file("/proc/meminfo")).available;
  for (auto& b : out) {
    if (!b.gpu && ram > 0) b.bytes = ram > kSafetyMargin ? ram - kSafetyMargin : 0;
  }
  return out;
}

std::vector<DeviceBudget> parse_max_memory(const std::string& text,
                                           const std::vector<engine::Device>& devices) {
  auto budgets = default_budgets(devices);
  const std::string all = trim(text);
  if (all.empty()) throw Error(ErrorKind::InvalidArgument, "--max-memory is empty");
  if (all.find('=') == std::string::npos) {
    const uint64_t size = parse_size(all, "--max-memory");
    for (auto& b : budgets) b.bytes = size;
    return budgets;
  }
  size_t start = 0;
  while (start <= all.size()) {
    const size_t comma = all.find(',', start);
    const std::string part =
        trim(all.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    start = comma == std::string::npos ? all.size() + 1 : comma + 1;
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(ErrorKind::InvalidArgument,
                  "--max-memory: '" + part + "' is not DEVICE=SIZE (e.g. cpu=8GiB,cuda0=20GiB)");
    const std::string name = lower(trim(part.substr(0, eq)));
    const uint64_t size = parse_size(trim(part.substr(eq + 1)), "--max-memory " + name);
    auto it =
        std::find_if(budgets.begin(), budgets.end(), [&](const auto& b) { return lower(b.device) == name; });
    if (it == budgets.end()) {
      std::string known;
      for (const auto& b : budgets) known += (known.empty() ? "" : ", ") + lower(b.device);
      throw Error(ErrorKind::InvalidArgument,
                  "--max-memory: no device '" + name + "' (devices: " + known + ")");
    }
    it->bytes = size;
  }
  return budgets;
}

namespace {

// The plan with the layers on `gpu` (or none when it is end()).
MemoryPlan plan_on(const gguf::GgufFile& file, const gguf::ModelInfo& info, const PlanRequest& request,
                   const std::vector<DeviceBudget>& available,
                   std::vector<DeviceBudget>::const_iterator gpu) {
  MemoryPlan plan;
  plan.model = file.name;
  plan.max_layers = static_cast<int>(info.n_layer) + 1;
  const auto cpu = std::find_if(available.begin(), available.end(), [](const auto& b) { return !b.gpu; });
  const uint64_t cpu_room = cpu == available.end() ? 0 : cpu->bytes;
  const uint64_t gpu_room = gpu == available.end() ? 0 : gpu->bytes;
  auto estimate = [&](int ngl) {
    gguf::MemoryParams p = request.params;
    p.n_gpu_layers = ngl;
    auto e = gguf::estimate_memory(file, info, p);
    // A CUDA build sets up its context on the GPU even with no layers there.
    if (gpu != available.end()) e.gpu.runtime = request.gpu_process_overhead;
    return e;
  };
  auto fits = [&](const gguf::MemoryEstimate& e) {
    return e.cpu.total() <= cpu_room && (e.gpu.total() == 0 || e.gpu.total() <= gpu_room);
  };

  int ngl = 0;
  if (gpu == available.end()) {
    ngl = 0;  // nothing to offload to
  } else if (request.gpu_layers >= 0) {
    ngl = std::min(request.gpu_layers, plan.max_layers);
  } else {
    // The most layers whose GPU share fits; more layers on the GPU only
    // lower the CPU's share, so the first that fits the GPU is the best.
    ngl = plan.max_layers;
    while (ngl > 0 && estimate(ngl).gpu.total() > gpu_room) --ngl;
  }
  plan.gpu_layers = ngl;
  plan.estimate = estimate(ngl);
  plan.fits = fits(plan.estimate);

  plan.devices.push_back({cpu == available.end() ? "CPU" : cpu->device, false, plan.estimate.cpu, cpu_room});
  if (gpu != available.end()) plan.devices.push_back({gpu->device, true, plan.estimate.gpu, gpu_room});

  if (!plan.fits) {
    std::string m = file.name + " does not fit in memory: ";
    bool first = true;
    for (const auto& d : plan.devices) {
      if (d.fits()) continue;
      m += std::string(first ? "" : "; ") + d.device + " needs " + format_bytes(d.need.total()) +
           " (weights " + format_bytes(d.need.weights) + ", KV cache " + format_bytes(d.need.kv_cache) +
           ", compute " + format_bytes(d.need.compute + d.need.output) +
           (d.need.runtime ? ", worker GPU context " + format_bytes(d.need.runtime) : "") + ") but " +
           format_bytes(d.available) + " is free";
      first = false;
    }
    if (gpu != available.end())
      m += " (with " + std::to_string(ngl) + " of " + std::to_string(plan.max_layers) + " layers on " +
           gpu->device + ")";
    plan.message = m;
  }
  return plan;
}

}  // namespace

MemoryPlan plan_memory(const gguf::GgufFile& file, const gguf::ModelInfo& info, const PlanRequest& request,
                       const std::vector<DeviceBudget>& available) {
  // With several GPUs a model goes to one of them (llama.cpp splits a model
  // across GPUs only when told; one GPU per model keeps each plan exact): the
  // one that takes the most layers, then the one with the most room, so that
  // several models spread over the GPUs.
  std::optional<MemoryPlan> best;
  uint64_t best_room = 0;
  for (auto it = available.begin(); it != available.end(); ++it) {
    if (!it->gpu) continue;
    auto p = plan_on(file, info, request, available, it);
    const bool better =
        !best || (p.fits && !best->fits) ||
        (p.fits == best->fits &&
         (p.gpu_layers > best->gpu_layers || (p.gpu_layers == best->gpu_layers && it->bytes > best_room)));
    if (better) {
      best = std::move(p);
      best_room = it->bytes;
    }
  }
  if (best) return *best;
  return plan_on(file, info, request, available, available.end());
}

MemoryPlan plan_memory(const std::filesystem::path& file, const PlanRequest& request,
                       const std::vector<DeviceBudget>& available) {
  const auto f = gguf::read_file(file);
  return plan_memory(f, gguf::derive_model_info(f), request, available);
}

}  // namespace rmm::models
