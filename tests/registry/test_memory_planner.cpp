// The memory planner: its needs against what llama.cpp really allocates once
// a model is loaded and a context created (llama_get_memory_breakdown: the
// weight buffers, the KV cache and the scheduler's compute buffers), its
// refusals, and --max-memory parsing.
#include <gtest/gtest.h>
#include <llama.h>

#include <cmath>

#include "core/error.hpp"
#include "models/memory_planner.hpp"
#include "src/llama-ext.h"
#include "support/test_env.hpp"

namespace rmm::models {
namespace {

void quiet_log(ggml_log_level, const char*, void*) {}

struct Setting {
  uint32_t n_ctx, n_seq, n_ubatch;
  bool flash_attn;
};

// Bytes llama.cpp holds for the model and a context with these settings (CPU only).
uint64_t allocated_by_llama(const std::filesystem::path& path, const Setting& s) {
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  mp.use_extra_bufts = false;  // no repacked copies (see tests/gguf/test_memory_estimate.cpp)
  llama_model* model = llama_model_load_from_file(path.c_str(), mp);
  if (!model) throw std::runtime_error("llama.cpp could not load " + path.string());
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = s.n_ctx;
  cp.n_seq_max = s.n_seq;
  cp.n_ubatch = s.n_ubatch;
  cp.n_threads = cp.n_threads_batch = 1;
  cp.flash_attn_type = s.flash_attn ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) {
    llama_model_free(model);
    throw std::runtime_error("llama.cpp could not create a context");
  }
  uint64_t total = 0;
  for (const auto& [buft, mb] : llama_get_memory_breakdown(ctx)) total += mb.total();
  llama_free(ctx);
  llama_model_free(model);
  return total;
}

TEST(MemoryPlanner, NeedsMatchWhatLlamaCppAllocatesOnCpu) {
  llama_log_set(quiet_log, nullptr);
  llama_backend_init();
  const Setting settings[] = {
      {512, 1, 512, true}, {2048, 4, 512, false}, {1024, 2, 256, true}, {256, 1, 32, true}};
  int checked = 0;
  for (const char* name : {"stories260K.gguf", "TinyStories-656K-Q8_0.gguf", "llama-2-tiny-random.gguf"}) {
    const auto path = test::shared_model(name);
    if (path.empty()) continue;
    for (const Setting& s : settings) {
      SCOPED_TRACE(std::string(name) + " n_ctx=" + std::to_string(s.n_ctx) +
                   " n_seq=" + std::to_string(s.n_seq));
      PlanRequest req;
      req.params.n_ctx = s.n_ctx;
      req.params.n_seq = s.n_seq;
      req.params.n_ubatch = s.n_ubatch;
      req.params.flash_attn = s.flash_attn;
      const auto plan = plan_memory(path, req, {{"CPU", false, 1ull << 40}});
      ASSERT_TRUE(plan.fits);
      const uint64_t actual = allocated_by_llama(path, s);
      // The breakdown leaves out the logits buffer, which the plan counts.
      const uint64_t planned = plan.total() - plan.estimate.cpu.output;
      const double err = std::abs(static_cast<double>(planned) - static_cast<double>(actual)) / actual;
      std::cout << name << " ctx " << s.n_ctx << " x" << s.n_seq << ": planned " << planned << ", llama.cpp "
                << actual << " (" << err * 100 << "%)\n";
      EXPECT_LT(err, 0.02) << "planned " << planned << " vs allocated " << actual;
      ++checked;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no shared models in " << test::shared_models_dir();
}

TEST(MemoryPlanner, RefusesWithNeededAndFreeAndPicksTheLayersThatFit) {
  const auto path = test::shared_model("llama-2-tiny-random.gguf");
  if (path.empty()) GTEST_SKIP();
  PlanRequest req;
  req.params.n_ctx = 512;
  const auto small = plan_memory(path, req, {{"CPU", false, 1 << 20}});
  EXPECT_FALSE(small.fits);
  EXPECT_NE(small.message.find("CPU needs"), std::string::npos) << small.message;
  EXPECT_NE(small.message.find("1.00 MiB is free"), std::string::npos) << small.message;
  // A GPU with room for part of the model: auto picks the most layers whose share fits.
  const auto all = plan_memory(path, req, {{"CPU", false, 1ull << 40}, {"GPU0", true, 1ull << 40}});
  EXPECT_EQ(all.gpu_layers, all.max_layers);
  const uint64_t half = all.estimate.gpu.total() * 3 / 4;
  const auto part = plan_memory(path, req, {{"CPU", false, 1ull << 40}, {"GPU0", true, half}});
  EXPECT_TRUE(part.fits);
  EXPECT_LT(part.gpu_layers, all.max_layers);
  EXPECT_LE(part.estimate.gpu.total(), half);
  req.gpu_layers = all.max_layers;  // a fixed number is checked, not lowered
  const auto fixed = plan_memory(path, req, {{"CPU", false, 1ull << 40}, {"GPU0", true, half}});
  EXPECT_FALSE(fixed.fits);
  EXPECT_NE(fixed.message.find("GPU0 needs"), std::string::npos) << fixed.message;
}

TEST(MemoryPlanner, AWorkersGpuContextCountsOnTheGpu) {
  const auto path = test::shared_model("llama-2-tiny-random.gguf");
  if (path.empty()) GTEST_SKIP();
  PlanRequest req;
  req.params.n_ctx = 512;
  const std::vector<DeviceBudget> roomy = {{"CPU", false, 1ull << 40}, {"GPU0", true, 1ull << 40}};
  const auto in_process = plan_memory(path, req, roomy);
  req.gpu_process_overhead = kGpuProcessContext;
  const auto worker = plan_memory(path, req, roomy);
  EXPECT_EQ(worker.gpu_layers, in_process.gpu_layers);
  EXPECT_EQ(worker.estimate.gpu.runtime, kGpuProcessContext);
  EXPECT_EQ(worker.estimate.gpu.total(), in_process.estimate.gpu.total() + kGpuProcessContext);
  EXPECT_EQ(worker.estimate.cpu.total(), in_process.estimate.cpu.total());
  // A GPU budget that holds the model's buffers but not the context as well takes fewer layers.
  const uint64_t tight = kGpuProcessContext + in_process.estimate.gpu.total() / 2;
  const auto squeezed = plan_memory(path, req, {{"CPU", false, 1ull << 40}, {"GPU0", true, tight}});
  EXPECT_LT(squeezed.gpu_layers, in_process.gpu_layers);
  EXPECT_LE(squeezed.estimate.gpu.total(), tight);
  // Without a GPU there is no context to pay.
  EXPECT_EQ(plan_memory(path, req, {{"CPU", false, 1ull << 40}}).estimate.gpu.total(), 0u);
}

TEST(MemoryPlanner, OfSeveralGpusAModelGoesToTheOneThatTakesMostOfIt) {
  const auto path = test::shared_model("llama-2-tiny-random.gguf");
  if (path.empty()) GTEST_SKIP();
  PlanRequest req;
  req.params.n_ctx = 512;
  const auto whole = plan_memory(path, req, {{"CPU", false, 1ull << 40}, {"GPU0", true, 1ull << 40}});
  const uint64_t need = whole.estimate.gpu.total();
  const uint64_t cpu = 1ull << 40;
  // Only the second holds it all.
  auto p = plan_memory(path, req, {{"CPU", false, cpu}, {"GPU0", true, need / 2}, {"GPU1", true, need}});
  EXPECT_EQ(p.gpu_device(), "GPU1");
  EXPECT_EQ(p.gpu_layers, p.max_layers);
  ASSERT_EQ(p.devices.size(), 2u);  // the CPU and the one GPU it is planned on
  // Both hold it: the one with more room, so that models spread.
  p = plan_memory(path, req, {{"CPU", false, cpu}, {"GPU0", true, need * 3}, {"GPU1", true, need * 2}});
  EXPECT_EQ(p.gpu_device(), "GPU0");
  // Neither holds it all: the one that takes more layers.
  p = plan_memory(path, req, {{"CPU", false, cpu}, {"GPU0", true, need / 4}, {"GPU1", true, need * 3 / 4}});
  EXPECT_EQ(p.gpu_device(), "GPU1");
  EXPECT_LT(p.gpu_layers, p.max_layers);
  EXPECT_LE(p.estimate.gpu.total(), need * 3 / 4);
  // No GPU: none named.
  EXPECT_EQ(plan_memory(path, req, {{"CPU", false, cpu}}).gpu_device(), "");
}

TEST(MemoryPlanner, ParsesMaxMemory) {
  const std::vector<engine::Device> devices = {{"CPU", "cpu", "cpu", 16ull << 30, 32ull << 30},
                                               {"CUDA0", "gpu", "gpu", 20ull << 30, 24ull << 30}};
  const auto defaults = default_budgets(devices);
  EXPECT_EQ(defaults[0].bytes, (16ull << 30) - kSafetyMargin);
  EXPECT_TRUE(defaults[1].gpu);
  const auto one = parse_max_memory("8GiB", devices);
  EXPECT_EQ(one[0].bytes, 8ull << 30);
  EXPECT_EQ(one[1].bytes, 8ull << 30);
  const auto each = parse_max_memory("cuda0=512MiB", devices);
  EXPECT_EQ(each[0].bytes, defaults[0].bytes);
  EXPECT_EQ(each[1].bytes, 512ull << 20);
  EXPECT_THROW(parse_max_memory("tpu0=1GiB", devices), Error);
  EXPECT_THROW(parse_max_memory("cpu=lots", devices), Error);
  EXPECT_THROW(parse_max_memory("", devices), Error);
}

}  // namespace
}  // namespace rmm::models
