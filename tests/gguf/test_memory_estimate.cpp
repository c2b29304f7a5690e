// The memory estimate against what llama.cpp itself reserves: llama.cpp's
// common_get_device_memory_data() loads the model and creates a context with
// no_alloc, and reports per-device model, context (KV) and compute bytes.
#include <fit.h>
#include <gtest/gtest.h>
#include <llama.h>

#include <cmath>

#include "core/error.hpp"
#include "gguf/memory_estimate.hpp"
#include "gguf/model_info.hpp"
#include "gguf/reader.hpp"
#include "support/test_env.hpp"

namespace rmm::gguf {
namespace {

void quiet_log(ggml_log_level, const char*, void*) {}

struct Setting {
  uint32_t n_ctx;
  uint32_t n_seq;
  uint32_t n_ubatch;
  bool flash_attn;
};

struct Measured {
  uint64_t model = 0, context = 0, compute = 0;
  uint64_t total() const { return model + context + compute; }
};

Measured measure_with_llama(const std::filesystem::path& path, const Setting& s) {
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  // Weights repacked for the CPU (e.g. Q8_0 on x86) live in a buffer type
  // that is not "host", and with no GPU device the measurement below drops
  // them; without the extra buffer types every weight is counted.
  mp.use_extra_bufts = false;
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = s.n_ctx;
  cp.n_seq_max = s.n_seq;
  cp.n_ubatch = s.n_ubatch;
  cp.flash_attn_type = s.flash_attn ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  std::vector<ggml_backend_dev_t> devs;
  uint32_t ngl = 0, n_ctx_train = 0, n_expert = 0;
  const auto per_device = common_get_device_memory_data(path.c_str(), &mp, &cp, devs, ngl, n_ctx_train,
                                                        n_expert, GGML_LOG_LEVEL_ERROR);
  Measured m;
  for (const auto& d : per_device) {  // the last entry is the host (CPU)
    m.model += d.model;
    m.context += d.context;
    m.compute += d.compute;
  }
  return m;
}

double relative_error(uint64_t estimate, uint64_t measured) {
  return std::abs(static_cast<double>(estimate) - static_cast<double>(measured)) /
         static_cast<double>(measured);
}

TEST(GgufMemoryEstimate, WithinTenPercentOfLlamaCppOnCpu) {
  llama_log_set(quiet_log, nullptr);
  llama_backend_init();
  const Setting settings[] = {
      {0, 1, 512, true},  // the model's own context, llama.cpp's defaults
      {512, 1, 512, false}, {2048, 1, 512, true},  {2048, 1, 512, false},
      {4096, 4, 512, true}, {4096, 4, 512, false}, {1024, 2, 256, true},
      {300, 1, 512, false}, {1000, 8, 128, true},  {8192, 3, 2048, false},
  };
  int checked = 0;
  for (const char* name : {"stories260K.gguf", "TinyStories-656K-Q8_0.gguf", "llama-2-tiny-random.gguf"}) {
    const auto path = test::shared_model(name);
    if (path.empty()) continue;
    const GgufFile file = read_file(path);
    const ModelInfo info = derive_model_info(file);
    for (const Setting& s : settings) {
      SCOPED_TRACE(std::string(name) + " n_ctx=" + std::to_string(s.n_ctx) +
                   " n_seq=" + std::to_string(s.n_seq) + " n_ubatch=" + std::to_string(s.n_ubatch) +
                   " fa=" + std::to_string(s.flash_attn));
      const Measured llama = measure_with_llama(path, s);
      MemoryParams p;
      p.n_ctx = s.n_ctx;
      p.n_seq = s.n_seq;
      p.n_ubatch = s.n_ubatch;
      p.flash_attn = s.flash_attn;
      const MemoryEstimate est = estimate_memory(file, info, p);
      EXPECT_EQ(est.gpu.total(), 0u);
      // Weights and KV cache follow exact rules; the compute buffer is a replay
      // of the graph allocator, allowed the same 10% as the total.
      EXPECT_EQ(est.cpu.weights, llama.model);
      EXPECT_EQ(est.cpu.kv_cache, llama.context);
      EXPECT_LE(relative_error(est.cpu.compute, llama.compute), 0.10)
          << "estimate " << est.cpu.compute << " vs llama.cpp " << llama.compute;
      const uint64_t comparable =
          est.cpu.weights + est.cpu.kv_cache + est.cpu.compute;  // llama.cpp omits the logits buffer
      EXPECT_LE(relative_error(comparable, llama.total()), 0.10)
          << "estimate " << comparable << " vs llama.cpp " << llama.total();
      ++checked;
    }
  }
  llama_backend_free();
  if (checked == 0) GTEST_SKIP() << "no shared models in " << test::shared_models_dir();
}

// llama-context.cpp: n_ctx is padded to 256; without a unified cache each
// sequence gets n_ctx / n_seq padded to 256, and n_ctx becomes that times n_seq.
TEST(GgufMemoryEstimate, ContextPaddingFollowsLlamaCpp) {
  RMM_REQUIRE_SHARED_MODEL(path, "stories260K.gguf");
  const GgufFile file = read_file(path);
  const ModelInfo info = derive_model_info(file);
  auto ctx = [&](uint32_t n_ctx, uint32_t n_seq, bool unified = false) {
    MemoryParams p;
    p.n_ctx = n_ctx;
    p.n_seq = n_seq;
    p.kv_unified = unified;
    const auto e = estimate_memory(file, info, p);
    return std::pair<uint32_t, uint32_t>(e.n_ctx, e.n_ctx_seq);
  };
  EXPECT_EQ(ctx(0, 1), std::make_pair(2048u, 2048u));  // the training context
  EXPECT_EQ(ctx(300, 1), std::make_pair(512u, 512u));
  EXPECT_EQ(ctx(1000, 8), std::make_pair(2048u, 256u));  // 1024 / 8 = 128, padded to 256
  EXPECT_EQ(ctx(4096, 4), std::make_pair(4096u, 1024u));
  EXPECT_EQ(ctx(1000, 8, true), std::make_pair(1024u, 1024u));
  // KV: 2 (K and V) x 5 layers x 4 KV heads x 8 dims x 2 bytes (f16) per cell.
  MemoryParams p;
  p.n_ctx = 1000;
  p.n_seq = 8;
  EXPECT_EQ(estimate_memory(file, info, p).cpu.kv_cache, 2ull * 5 * 4 * 8 * 2 * 2048);
}

// llama-model.cpp: of n_layer + 1 layers the last n_gpu_layers are offloaded;
// the output layer is last, so it goes first; token embeddings never do.
TEST(GgufMemoryEstimate, GpuLayersFollowLlamaCppPlacement) {
  RMM_REQUIRE_SHARED_MODEL(path, "stories260K.gguf");
  const GgufFile file = read_file(path);
  const ModelInfo info = derive_model_info(file);
  auto est = [&](int32_t ngl) {
    MemoryParams p;
    p.n_gpu_layers = ngl;
    return estimate_memory(file, info, p);
  };
  const uint64_t all = 292800ull * 4;
  const uint64_t embd = 64ull * 512 * 4;
  const uint64_t output = 64ull * 512 * 4 + 64 * 4;  // output.weight and output_norm.weight
  const uint64_t kv_layer = 2ull * 4 * 8 * 2 * 2048;
  EXPECT_EQ(est(0).cpu.weights, all);
  EXPECT_EQ(est(0).gpu.weights, 0u);
  EXPECT_EQ(est(1).gpu.weights, output);
  EXPECT_EQ(est(1).gpu.kv_cache, 0u);
  EXPECT_EQ(est(1).gpu_layers, 1u);
  EXPECT_EQ(est(3).cpu.kv_cache, 3 * kv_layer);  // blocks 0-2 stay, 3-4 and the output go
  EXPECT_EQ(est(3).gpu.kv_cache, 2 * kv_layer);
  EXPECT_EQ(est(-1).cpu.weights, embd);
  EXPECT_EQ(est(-1).gpu.weights, all - embd);
  EXPECT_EQ(est(-1).gpu_layers, 6u);
  EXPECT_EQ(est(100).gpu_layers, 6u);
  EXPECT_GT(est(-1).gpu.compute, 0u);
}

TEST(GgufMemoryEstimate, TiedOutputIsCopiedToTheGpu) {
  RMM_REQUIRE_SHARED_MODEL(path, "TinyStories-656K-Q8_0.gguf");
  const GgufFile file = read_file(path);
  const ModelInfo info = derive_model_info(file);
  MemoryParams p;
  p.n_gpu_layers = -1;
  const auto e = estimate_memory(file, info, p);
  const uint64_t embd = 128ull * 2048 / 32 * 34;  // Q8_0: 34 bytes per 32 values
  uint64_t others = 0;
  for (const auto& t : file.tensors) {
    if (t.name != "token_embd.weight") others += (t.n_bytes + 31) / 32 * 32;
  }
  EXPECT_EQ(e.cpu.weights, embd);
  EXPECT_EQ(e.gpu.weights, others + embd);  // the offloaded layers plus the output head's copy
}

TEST(GgufMemoryEstimate, RejectsImpossibleSettings) {
  RMM_REQUIRE_SHARED_MODEL(path, "stories260K.gguf");
  const GgufFile file = read_file(path);
  const ModelInfo info = derive_model_info(file);
  auto kind = [&](MemoryParams p) {
    try {
      estimate_memory(file, info, p);
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::Internal;
  };
  MemoryParams p;
  p.n_seq = 0;
  EXPECT_EQ(kind(p), ErrorKind::InvalidArgument);
  p.n_seq = 257;
  EXPECT_EQ(kind(p), ErrorKind::InvalidArgument);
  p = {};
  p.kv_type = 4;  // a removed ggml type
  EXPECT_EQ(kind(p), ErrorKind::InvalidArgument);
}

}  // namespace
}  // namespace rmm::gguf
