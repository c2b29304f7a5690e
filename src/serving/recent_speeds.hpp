#pragma once
// The server's recent speeds: the generations that ended in the last
// window (60 s), cache replays not counted, summed for the dashboard.
// Thread-safe: generations end on engine threads, routes read it on I/O threads.
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace rmm::serving {

struct FinishedGeneration {
  int64_t end_ms = 0;  // unix ms
  int prompt_tokens = 0;
  double prompt_ms = 0.0;
  int generated_tokens = 0;
  double generation_ms = 0.0;
  double queue_ms = 0.0;
};

struct RecentSummary {
  int64_t window_s = 0;
  int requests = 0;
  // Total tokens / total ms over the window's requests; nullopt when there
  // are none (or no time was spent).
  std::optional<double> prompt_tokens_per_second;
  std::optional<double> generation_tokens_per_second;
  // Median of queue_ms + prompt_ms; nullopt when there are none.
  std::optional<double> time_to_first_token_ms;
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
};

class RecentSpeeds {
 public:
  static constexpr int64_t kDefaultWindowMs = 60 * 1000;
  explicit RecentSpeeds(int64_t window_ms = kDefaultWindowMs) : window_ms_(window_ms) {}

  void add(const FinishedGeneration& g);
  // The generations that ended after now_ms - window (older ones are dropped).
  RecentSummary summary(int64_t now_ms);
  int64_t window_ms() const { return window_ms_; }

 private:
  void expire_locked(int64_t now_ms);

  const int64_t window_ms_;
  std::mutex mutex_;
  std::deque<FinishedGeneration> done_;  // by end time
};

}  // namespace rmm::serving
