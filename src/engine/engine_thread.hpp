#pragma once
// Runs a BatchEngine on its own thread: steps while there is work, sleeps
// when there is none, and wakes on submit() or cancel(). Front ends that
// serve many callers (the HTTP server) talk to the engine through this.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "engine/batch_engine.hpp"

namespace rmm::engine {

class EngineThread : public Generator {
 public:
  // `after_step` runs on the engine thread after each step (a worker flushes
  // the step's token events there, in one write); it must not block.
  explicit EngineThread(std::unique_ptr<BatchEngine> engine, std::function<void()> after_step = {});
  ~EngineThread() override;  // cancels everything, lets each request finish (callbacks run), joins
  EngineThread(const EngineThread&) = delete;
  EngineThread& operator=(const EngineThread&) = delete;

  // As BatchEngine::submit (throws rmm::Error(InvalidArgument)); callbacks run on the engine thread.
  RequestId submit(GenerateRequest request, TokenCallback on_token, DoneCallback on_done) override;
  void validate(const GenerateRequest& request) const override { engine_->validate(request); }
  void cancel(RequestId id) override;
  void cancel_all() override;

  size_t queued() const override { return engine_->queued(); }
  size_t running() const override { return engine_->running(); }
  ContextShape shape() const override { return {engine_->n_ctx(), engine_->n_ctx_seq(), engine_->n_seq()}; }

 private:
  void loop();
  void wake();

  std::unique_ptr<BatchEngine> engine_;
  std::function<void()> after_step_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t wakeups_ = 0;
  std::thread thread_;
};

}  // namespace rmm::engine
