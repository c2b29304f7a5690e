#pragma once
// Continuous batching over one llama_context: every active generation adds its
// next token (or a chunk of its prompt) to one shared batch per step, each with
// its own sampler, seed and stop rules. Requests join and leave between steps,
// and a new request reuses the longest cached prefix among idle slots.
//
// Threading: submit() and cancel() may be called from any thread; step() and
// run() from one thread at a time, which is also where callbacks run.
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "engine/generation.hpp"
#include "engine/generator.hpp"
#include "engine/model.hpp"

struct llama_context;

namespace rmm::engine {

struct ContextParams {
  int n_ctx = 0;            // KV cells over all sequences; 0: the model's training context, at most 4096
  int n_seq = 1;            // sequences decoded together (slots)
  int n_batch = 2048;       // tokens per llama_decode call
  int n_ubatch = 512;       // tokens per compute graph
  int n_threads = 0;        // 0: all hardware threads
  int n_threads_batch = 0;  // 0: same as n_threads
  bool kv_unified = false;  // one KV buffer shared by all sequences (n_ctx per sequence) or n_ctx/n_seq each
  int flash_attn = -1;      // -1 auto, 0 off, 1 on
};

class BatchEngine {
 public:
  // Throws rmm::Error(InvalidArgument) for bad parameters, OutOfMemory when
  // llama.cpp cannot allocate the context.
  BatchEngine(std::shared_ptr<const Model> model, const ContextParams& params);
  ~BatchEngine();
  BatchEngine(const BatchEngine&) = delete;
  BatchEngine& operator=(const BatchEngine&) = delete;

  // Validates and queues a request (throws rmm::Error(InvalidArgument) naming
  // the problem, e.g. a prompt longer than the context). The callbacks run on
  // the stepping thread; on_done runs exactly once.
  RequestId submit(GenerateRequest request, TokenCallback on_token, DoneCallback on_done);
  // The checks submit() makes, without queueing anything. Thread-safe.
  void validate(const GenerateRequest& request) const;
  // Stops a queued or running request; it finishes with StopReason::Cancelled
  // within one step. Unknown or finished ids are ignored.
  void cancel(RequestId id);
  void cancel_all();

  // One decode step: admit waiting requests, decode one batch, sample and emit.
  // Returns false when there was nothing to do.
  bool step();
  // Steps until no request is queued or running.
  void run();
  // Convenience for single-caller use: submit, run, return the result.
  GenerationResult generate(GenerateRequest request, const TokenCallback& on_token = {});

  const Model& model() const { return *model_; }
  int n_ctx() const;
  int n_ctx_seq() const;  // the most tokens (prompt + output) one sequence can hold
  int n_seq() const { return params_.n_seq; }
  size_t queued() const;
  size_t running() const { return running_.load(); }  // safe from any thread

 private:
  struct Active;
  struct Slot;
  struct Queued;

  void admit();
  void finish(Slot& slot, StopReason reason, const std::string& error = "");
  void emit_released(Active& a, const std::vector<std::string>& texts);
  struct Pick;
  Pick choose(Active& a, const float* logits) const;  // thread-safe across different sequences
  void accept(Slot& slot, const Pick& pick);

  std::shared_ptr<const Model> model_;
  ContextParams params_;
  llama_context* ctx_ = nullptr;
  std::vector<Slot> slots_;
  std::vector<int> prompt_order_;  // slots in prompt processing, first come first served

  mutable std::mutex inbox_mutex_;
  std::deque<Queued> inbox_;
  std::unordered_map<RequestId, std::shared_ptr<std::atomic<bool>>> cancel_flags_;
  std::atomic<RequestId> next_id_{1};
  std::vector<const std::atomic<bool>*> batch_flags_;  // cancel flags of the sequences in the current batch
  static bool abort_requested(void* self);
  uint64_t use_clock_ = 0;
  std::atomic<size_t> running_{0};
  struct Batch;
  std::unique_ptr<Batch> batch_;
};

}  // namespace rmm::engine
