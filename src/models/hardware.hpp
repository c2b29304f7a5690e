#pragma once
// What the machine has: the CPU (model, cores, threads, SIMD features), RAM and
// every ggml device (GPUs with their VRAM), for GET /api/system/info, the
// dashboard and, later, choosing how many layers fit on a GPU.
//
// Cost of probe(): the first call initialises llama.cpp's backends (for CUDA
// that is the driver's start, up to a second) and reads /proc/cpuinfo once; the
// CPU part never changes and is kept. Every call after that reads
// /proc/meminfo and the affinity mask (about 10 microseconds in all on CPU)
// and asks each GPU for its free memory (ggml's CUDA backend: cudaMemGetInfo
// and cudaGetDeviceProperties, well under a millisecond each once the device
// has a context; the first query of a GPU creates its CUDA context, which holds
// a few hundred MiB of VRAM, as loading a model on it would). Cheap enough for
// every request. The parsers take the file text so tests can feed fixtures.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rmm::models {

struct CpuInfo {
  std::string model;                  // "model name" of /proc/cpuinfo, "unknown" when absent
  int physical_cores = 0;             // distinct (physical id, core id) pairs
  int logical_threads = 0;            // "processor" entries (hardware threads online)
  int usable_threads = 0;             // threads this process may run on (its affinity mask)
  std::vector<std::string> features;  // llama.cpp's CPU features that are on: "AVX2", "FMA", ...
};

struct RamInfo {
  uint64_t total = 0;      // bytes, MemTotal
  uint64_t available = 0;  // bytes, MemAvailable (what can be had without swapping)
};

struct GpuInfo {
  std::string name;         // ggml's device name: "CUDA0", "Vulkan1", ...
  std::string description;  // "NVIDIA H100 80GB HBM3"
  std::string type;         // "gpu", "igpu" or "accel"
  uint64_t memory_total = 0;
  uint64_t memory_free = 0;
};

struct Hardware {
  CpuInfo cpu;
  RamInfo ram;
  std::vector<GpuInfo> gpus;          // every ggml device that is not the CPU
  std::vector<std::string> backends;  // compiled-in ggml backends: "CPU", "CUDA", ...
};

Hardware probe();

// The parts of /proc/cpuinfo probe() uses. Cores fall back to "cpu cores" and
// then to the thread count when the file lacks core ids (some ARM kernels, VMs).
struct CpuInfoText {
  std::string model = "unknown";
  int physical_cores = 0;
  int logical_threads = 0;
};
CpuInfoText parse_cpuinfo(std::string_view text);

// MemTotal and MemAvailable of /proc/meminfo, in bytes. Kernels before 3.14
// lack MemAvailable: then MemFree + Buffers + Cached stands in.
RamInfo parse_meminfo(std::string_view text);

// One entry of llama.cpp's system summary
// "CPU : SSE3 = 1 | AVX = 1 | ... | CUDA : ARCHS = 890 | ...".
struct BuildFeature {
  std::string backend;  // the group it came from: "CPU", "CUDA", ...
  std::string name;
  std::string value;
};
std::vector<BuildFeature> parse_system_features(std::string_view text);
// Names of the CPU group's features whose value is 1, in order.
std::vector<std::string> cpu_feature_names(const std::vector<BuildFeature>& features);

// The whole of a small file such as /proc/meminfo (whose size stat reports as
// 0, so it is read until the end); empty when it cannot be read.
std::string read_small_file(const char* path);

}  // namespace rmm::models
