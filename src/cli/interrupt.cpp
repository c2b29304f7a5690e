#include "cli/interrupt.hpp"

#include <signal.h>

#include <chrono>

namespace rmm::cli {
namespace {

std::atomic<int> g_presses{0};

extern "C" void on_sigint(int) { g_presses.fetch_add(1); }

}  // namespace

InterruptWatch::InterruptWatch(std::function<void(int)> on_interrupt)
    : on_interrupt_(std::move(on_interrupt)) {
  g_presses = 0;
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking read returns so the prompt loop can react
  sigaction(SIGINT, &sa, nullptr);
  watcher_ = std::thread([this] {
    int seen = 0;
    while (!stop_.load()) {
      const int now = g_presses.load();
      if (now > seen) {
        seen = now;
        if (on_interrupt_) on_interrupt_(now);
      } else if (now < seen) {
        seen = now;  // reset()
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
}

InterruptWatch::~InterruptWatch() {
  stop_ = true;
  watcher_.join();
  signal(SIGINT, SIG_DFL);
}

int InterruptWatch::presses() const { return g_presses.load(); }
void InterruptWatch::reset() { g_presses = 0; }

}  // namespace rmm::cli
