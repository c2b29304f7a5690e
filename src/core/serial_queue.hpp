#pragma once
// One background thread running queued jobs in order. The destructor runs
// what is still queued, then joins: callbacks a job owes are never dropped.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace rmm {

class SerialQueue {
 public:
  SerialQueue() : thread_([this] { loop(); }) {}
  ~SerialQueue() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  SerialQueue(const SerialQueue&) = delete;
  SerialQueue& operator=(const SerialQueue&) = delete;

  void post(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

  // Blocks until every job posted before the call has run (tests, shutdown order).
  void drain() {
    std::mutex m;
    std::condition_variable done_cv;
    bool done = false;
    post([&] {
      std::lock_guard lock(m);
      done = true;
      done_cv.notify_all();
    });
    std::unique_lock lock(m);
    done_cv.wait(lock, [&] { return done; });
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace rmm
