#pragma once
// Wall-clock time as the store and the APIs write it: unix milliseconds.
#include <chrono>
#include <cstdint>

namespace rmm {

inline int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace rmm
