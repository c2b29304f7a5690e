#pragma once
// Process-wide llama.cpp / ggml initialisation and what was compiled in.
#include <string>
#include <vector>

namespace rmm::engine {

// Initialises llama.cpp's backends once; every engine entry point calls it.
void ensure_backend();

std::string llama_cpp_version();
// Names of the compiled-in ggml backends, e.g. {"CPU"} or {"CUDA", "CPU"}.
std::vector<std::string> compiled_backends();
struct Device {
  std::string name;         // e.g. "CUDA0", "CPU"
  std::string description;  // e.g. "NVIDIA H200"
  std::string type;         // "cpu", "gpu", "igpu", "accel"
  size_t memory_free = 0;
  size_t memory_total = 0;
};
std::vector<Device> devices();

// llama.cpp's CPU feature summary ("AVX2 = 1 | ...").
std::string cpu_features();

}  // namespace rmm::engine
