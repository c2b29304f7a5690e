#pragma once
// Decides, before a load, whether a model fits and how many layers go to the
// GPU: the needs per device come from gguf::estimate_memory (weights, KV
// cache, compute and logits buffers, checked against llama.cpp), the room
// from per-device budgets (--max-memory, or free memory minus a margin).
//
// Why not llama.cpp common's fitting (common_fit_params)? It fits against the
// devices' live free memory only, not against a budget that other models of
// this server already draw on; it does trial loads of the model (no_alloc)
// for each try; and it shrinks the context when memory is short, where the
// server must keep the context it was asked for and refuse instead. The
// estimate it relies on (common_get_device_memory_data) is the one our own
// estimate is tested against, so the numbers agree.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "gguf/memory_estimate.hpp"

namespace rmm::models {

// Left free on each device by the default budget: llama.cpp's own default
// margin when it fits parameters to free memory (1 GiB per device).
inline constexpr uint64_t kSafetyMargin = 1ull << 30;

// What a process's CUDA context takes on a GPU it uses: 514 MiB for a worker
// and 518 MiB for the server on the H200 (nvidia-smi per process, CUDA 12;
// bench/README.md). A model in a worker process pays it on top of its buffers.
inline constexpr uint64_t kGpuProcessContext = 512ull << 20;

struct DeviceBudget {
  std::string device;  // "CPU", "CUDA0" (ggml's device name)
  bool gpu = false;
  uint64_t bytes = 0;  // what models may use on it
};

// The default budget: each device's free memory minus kSafetyMargin (0 when less is free).
std::vector<DeviceBudget> default_budgets(const std::vector<engine::Device>& devices);

// What could be had on each device right now, minus kSafetyMargin: RAM that
// is available without swapping (MemAvailable; ggml reports the CPU's total)
// and each GPU's free memory. Budgets are capped by it before every load, so
// that other programs' use since the start (or a --max-memory above what
// the machine has) never lets a load run the machine out of memory.
std::vector<DeviceBudget> free_now();

// --max-memory: "8GiB" (every device) or "cpu=8GiB,cuda0=20GiB" (device names
// case-insensitive; devices not named keep the default). Throws
// rmm::Error(InvalidArgument) naming the bad part, or an unknown device.
std::vector<DeviceBudget> parse_max_memory(const std::string& text,
                                           const std::vector<engine::Device>& devices);

struct DevicePlan {
  std::string device;
  bool gpu = false;
  gguf::DeviceMemory need;  // what this model needs here
  uint64_t available = 0;   // what was free in the budget for it
  bool fits() const { return need.total() <= available; }
};

struct MemoryPlan {
  std::string model;   // file name, for messages
  int gpu_layers = 0;  // chosen (of n_layer + 1; the output layer counts as one)
  int max_layers = 0;  // n_layer + 1
  bool fits = false;
  std::vector<DevicePlan> devices;  // the CPU first, then the GPU the layers go to (if any)
  // That GPU's device name ("CUDA1"); empty without one.
  std::string gpu_device() const { return devices.size() > 1 ? devices[1].device : std::string(); }
  gguf::MemoryEstimate estimate;
  std::string message;  // when it does not fit: needed vs free, per device
  uint64_t total() const { return estimate.total(); }
  // What it takes on `device` (0 for a device it does not use).
  uint64_t need_on(const std::string& device) const {
    for (const auto& d : devices) {
      if (d.device == device) return d.need.total();
    }
    return 0;
  }
};

struct PlanRequest {
  gguf::MemoryParams params;  // context, slots, batch sizes, flash attention, KV type
  int gpu_layers = -1;        // -1: as many as fit (all when they all fit)
  // Added on the GPU when one is planned (kGpuProcessContext for a model in
  // its own worker process; 0 in-process, where the server's context serves).
  uint64_t gpu_process_overhead = 0;
};

// Plans a load of `file` given what is `available` on each device now.
// Layers go to one GPU: of several, the one that takes the most layers, then
// the one with the most room (load it with LoadParams::gpu_device so that
// llama.cpp does not split it). With gpu_layers -1 the most layers that fit are chosen;
// a fixed number is kept and only checked. Throws rmm::Error for a file that
// cannot be read or settings estimate_memory rejects.
MemoryPlan plan_memory(const std::filesystem::path& file, const PlanRequest& request,
                       const std::vector<DeviceBudget>& available);
MemoryPlan plan_memory(const gguf::GgufFile& file, const gguf::ModelInfo& info, const PlanRequest& request,
                       const std::vector<DeviceBudget>& available);

}  // namespace rmm::models
