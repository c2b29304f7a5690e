#include "serving/recent_speeds.hpp"

#include <algorithm>
#include <iterator>
#include <vector>

namespace rmm::serving {

void RecentSpeeds::add(const FinishedGeneration& g) {
  std::lock_guard lock(mutex_);
  // Kept in end-time order, so that expiry drops from the front.
  auto at = done_.end();
  while (at != done_.begin() && std::prev(at)->end_ms > g.end_ms) --at;
  done_.insert(at, g);
  expire_locked(g.end_ms);
}

void RecentSpeeds::expire_locked(int64_t now_ms) {
  while (!done_.empty() && done_.front().end_ms <= now_ms - window_ms_) done_.pop_front();
}

RecentSummary RecentSpeeds::summary(int64_t now_ms) {
  std::lock_guard lock(mutex_);
  expire_locked(now_ms);
  RecentSummary s;
  s.window_s = window_ms_ / 1000;
  double prompt_ms = 0.0;
  double generation_ms = 0.0;
  std::vector<double> ttft;
  for (const auto& g : done_) {
    if (g.end_ms > now_ms) continue;  // not yet, as of now_ms
    ++s.requests;
    s.prompt_tokens += g.prompt_tokens;
    s.generated_tokens += g.generated_tokens;
    prompt_ms += g.prompt_ms;
    generation_ms += g.generation_ms;
    ttft.push_back(g.queue_ms + g.prompt_ms);
  }
  if (s.requests == 0) return s;
  if (prompt_ms > 0.0) s.prompt_tokens_per_second = static_cast<double>(s.prompt_tokens) * 1000.0 / prompt_ms;
  if (generation_ms > 0.0)
    s.generation_tokens_per_second = static_cast<double>(s.generated_tokens) * 1000.0 / generation_ms;
  std::sort(ttft.begin(), ttft.end());
  const size_t n = ttft.size();
  s.time_to_first_token_ms = n % 2 == 1 ? ttft[n / 2] : (ttft[n / 2 - 1] + ttft[n / 2]) / 2.0;
  return s;
}

}  // namespace rmm::serving
