#pragma once
// What the Monitor screen shows, gathered on the backend's worker thread:
// the generations the app ran (every model, chat and Prompt Architect alike:
// AppCore's host reports each one to a GenerationLog) and a resource sample
// (RAM, VRAM per device, this process and its model workers).
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "models/resource_monitor.hpp"
#include "serving/recent_speeds.hpp"

namespace rmm::desktop {

struct GenerationSample {
  serving::FinishedGeneration timings;  // end time (unix ms), tokens and milliseconds
  std::string model;                    // the host's id for it (the registry's short name)
  double tokens_per_second = 0.0;       // generated tokens after the first / generation time
  double time_to_first_token_ms = 0.0;  // queue + prompt processing
};

// The last `capacity` generations, oldest first. Thread-safe: generations end
// on engine threads, the Monitor reads on the worker thread.
class GenerationLog {
 public:
  explicit GenerationLog(size_t capacity = 200) : capacity_(capacity) {}
  void add(GenerationSample s);
  std::vector<GenerationSample> last(size_t n) const;
  int64_t total() const;  // every generation added so far, dropped ones included

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<GenerationSample> samples_;
  int64_t total_ = 0;
};

// One poll of the Monitor.
struct MonitorSnapshot {
  std::vector<GenerationSample> generations;  // the newest last
  int64_t generations_total = 0;
  serving::RecentSummary last_minute;  // the host's: every generation of the last 60 s
  std::optional<models::UsageSample> usage;
  std::vector<std::string> loaded;  // models in memory, most recently used first
};

}  // namespace rmm::desktop
