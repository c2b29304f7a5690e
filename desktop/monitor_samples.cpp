#include "monitor_samples.hpp"

#include <algorithm>

namespace rmm::desktop {

void GenerationLog::add(GenerationSample s) {
  std::lock_guard lock(mutex_);
  samples_.push_back(std::move(s));
  ++total_;
  while (samples_.size() > capacity_) samples_.pop_front();
}

std::vector<GenerationSample> GenerationLog::last(size_t n) const {
  std::lock_guard lock(mutex_);
  const size_t k = std::min(n, samples_.size());
  return {samples_.end() - static_cast<std::ptrdiff_t>(k), samples_.end()};
}

int64_t GenerationLog::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace rmm::desktop
