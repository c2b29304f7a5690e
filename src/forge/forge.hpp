#pragma once
// Writes a llama-architecture GGUF with seeded random weights and a borrowed
// tokenizer: a stand-in model of any size for tests and benchmarks. The same
// spec always gives the same bytes, whatever the thread count. Tensors are
// generated, quantized and written a chunk of rows at a time, so memory use
// stays small however big the model is.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "forge/spec.hpp"

namespace rmm::forge {

struct Progress {
  size_t tensor_index = 0;  // the tensor being written, 0-based
  size_t n_tensors = 0;
  const std::string* tensor_name = nullptr;
  uint64_t bytes_written = 0;  // including the metadata
  uint64_t total_bytes = 0;    // the final file size
};
// Called from the calling thread after each chunk is written.
using ProgressFn = std::function<void(const Progress&)>;

struct ForgeOptions {
  unsigned threads = 0;  // 0: std::thread::hardware_concurrency()
  ProgressFn progress;
};

struct ForgeResult {
  std::filesystem::path vocab_file;
  uint32_t n_vocab = 0;
  size_t n_tensors = 0;
  uint64_t n_params = 0;
  uint64_t file_size = 0;
};

// Validates `spec`, then writes `out` through a temporary file beside it that
// is renamed into place only when complete. Throws rmm::Error.
ForgeResult forge(const Spec& spec, const std::filesystem::path& out, const ForgeOptions& options = {});

}  // namespace rmm::forge
