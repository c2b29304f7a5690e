// libFuzzer target: arbitrary bytes through the GGUF reader, the ModelInfo
// derivation and the memory estimate. Rejections must be rmm::Error with a
// one-line message; anything else (a crash, a sanitizer report, another
// exception escaping) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "core/error.hpp"
#include "gguf/memory_estimate.hpp"
#include "gguf/model_info.hpp"
#include "gguf/reader.hpp"

namespace {

void check_error(const rmm::Error& e) {
  const char* msg = e.what();
  // A one-line message, and only the kinds the reader and estimate use.
  if (msg[0] == '\0' || std::strchr(msg, '\n') != nullptr) std::abort();
  if (e.kind() != rmm::ErrorKind::BadFile && e.kind() != rmm::ErrorKind::InvalidArgument) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rmm::gguf;
  GgufFile file;
  ModelInfo info;
  try {
    file = read_buffer(std::span<const uint8_t>(data, size), "fuzz.gguf");
    info = derive_model_info(file);
  } catch (const rmm::Error& e) {
    check_error(e);
    return 0;
  }
  // Two settings: llama.cpp's defaults on the CPU, and a partly offloaded,
  // multi-sequence context without flash attention.
  MemoryParams offloaded;
  offloaded.n_ctx = 4096;
  offloaded.n_seq = 3;
  offloaded.n_gpu_layers = 2;
  offloaded.flash_attn = false;
  for (const MemoryParams& params : {MemoryParams{}, offloaded}) {
    try {
      const MemoryEstimate est = estimate_memory(file, info, params);
      if (est.total() < est.cpu.weights) std::abort();  // the sum wrapped around
    } catch (const rmm::Error& e) {
      check_error(e);
    }
  }
  return 0;
}
