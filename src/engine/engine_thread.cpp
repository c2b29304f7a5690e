#include "engine/engine_thread.hpp"

namespace rmm::engine {

EngineThread::EngineThread(std::unique_ptr<BatchEngine> engine, std::function<void()> after_step)
    : engine_(std::move(engine)), after_step_(std::move(after_step)) {
  thread_ = std::thread([this] { loop(); });
}

EngineThread::~EngineThread() {
  engine_->cancel_all();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void EngineThread::wake() {
  {
    std::lock_guard lock(mutex_);
    ++wakeups_;
  }
  cv_.notify_all();
}

RequestId EngineThread::submit(GenerateRequest request, TokenCallback on_token, DoneCallback on_done) {
  const RequestId id = engine_->submit(std::move(request), std::move(on_token), std::move(on_done));
  wake();
  return id;
}

void EngineThread::cancel(RequestId id) {
  engine_->cancel(id);
  wake();
}

void EngineThread::cancel_all() {
  engine_->cancel_all();
  wake();
}

void EngineThread::loop() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      seen = wakeups_;
      if (stopping_) break;
    }
    const bool worked = engine_->step();
    if (after_step_) after_step_();
    if (worked) continue;
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return stopping_ || wakeups_ != seen; });
  }
  // Cancelled requests still get their on_done.
  engine_->run();
  if (after_step_) after_step_();
}

}  // namespace rmm::engine
