#pragma once
// Predicts what llama.cpp allocates for a model and context settings, from
// the GGUF header alone: weights per device, KV cache, logits buffer and
// compute buffers. Mirrors llama.cpp's rules (llama-model.cpp layer
// placement, llama-context.cpp context padding, llama-kv-cache.cpp cache
// shape, ggml-alloc.c buffer layout) for dense llama-style transformers;
// other architectures (MoE, recurrent, sliding-window) get an approximation.
#include <cstdint>

#include "gguf/model_info.hpp"
#include "gguf/reader.hpp"

namespace rmm::gguf {

struct MemoryParams {
  uint32_t n_ctx = 0;        // total context; 0: the model's training context (llama.cpp's default)
  uint32_t n_seq = 1;        // parallel sequences (llama.cpp's n_seq_max)
  int32_t n_gpu_layers = 0;  // layers to offload, -1 for all; the output layer counts as one
  uint32_t n_batch = 2048;   // llama.cpp's defaults
  uint32_t n_ubatch = 512;
  bool flash_attn = true;   // llama.cpp's "auto" enables it on CPU and on GPUs that support it
  bool kv_unified = false;  // one KV stream shared by all sequences
  uint32_t kv_type = 1;     // ggml type id of the K and V cache (1 = f16)
};

struct DeviceMemory {
  uint64_t weights = 0;
  uint64_t kv_cache = 0;
  uint64_t compute = 0;  // the graph's intermediate tensors
  uint64_t output = 0;   // host buffer for logits
  // The process's own GPU context (CUDA runtime and library state), which a
  // model in a worker process pays on its GPU; never part of an estimate.
  uint64_t runtime = 0;
  uint64_t total() const { return weights + kv_cache + compute + output + runtime; }
};

struct MemoryEstimate {
  uint32_t n_ctx = 0;      // context after llama.cpp's padding (all sequences)
  uint32_t n_ctx_seq = 0;  // context of one sequence
  uint32_t n_batch = 0;
  uint32_t n_ubatch = 0;    // tokens per compute step
  uint32_t gpu_layers = 0;  // of n_layer + 1 (the output layer), how many are offloaded
  bool flash_attn = true;
  DeviceMemory cpu;
  DeviceMemory gpu;
  uint64_t total() const { return cpu.total() + gpu.total(); }
};

// Throws rmm::Error(InvalidArgument) for impossible settings (no sequences,
// a context too small for the sequences, an unknown KV type) and
// rmm::Error(BadFile) when the model lacks what the estimate needs.
MemoryEstimate estimate_memory(const GgufFile& file, const ModelInfo& info, const MemoryParams& params);

}  // namespace rmm::gguf
