#pragma once
// Ctrl-C handling for interactive commands. The signal handler only bumps an
// atomic counter; a watcher thread turns presses into a callback, so the
// callback may lock mutexes (e.g. cancel a generation).
#include <atomic>
#include <functional>
#include <thread>

namespace rmm::cli {

class InterruptWatch {
 public:
  explicit InterruptWatch(std::function<void(int presses)> on_interrupt);
  ~InterruptWatch();
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

  int presses() const;
  void reset();

 private:
  std::function<void(int)> on_interrupt_;
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

}  // namespace rmm::cli
