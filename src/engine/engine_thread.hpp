#pragma once
// Runs a BatchEngine on its own thread: steps while there is work, sleeps
// when there is none, and wakes on submit() or cancel(). Front ends that
// serve many callers (the HTTP server) talk to the engine through this.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "engine/batch_engine.hpp"

namespace rmm::engine {

class EngineThread {
 public:
  explicit EngineThread(std::unique_ptr<BatchEngine> engine);
  ~EngineThread();  // cancels everything, lets each request finish (callbacks run), joins
  EngineThread(const EngineThread&) = delete;
  EngineThread& operator=(const EngineThread&) = delete;

  // As BatchEngine::submit (throws rmm::Error(InvalidArgument)); callbacks run on the engine thread.
  RequestId submit(GenerateRequest request, TokenCallback on_token, DoneCallback on_done);
  void cancel(RequestId id);
  void cancel_all();

  size_t queued() const { return engine_->queued(); }
  size_t running() const { return engine_->running(); }
  const BatchEngine& engine() const { return *engine_; }

 private:
  void loop();
  void wake();

  std::unique_ptr<BatchEngine> engine_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t wakeups_ = 0;
  std::thread thread_;
};

}  // namespace rmm::engine
