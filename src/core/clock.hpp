#pragma once
// Wall-clock time as the store and the APIs write it: unix milliseconds.
#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

namespace rmm {

inline int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `unix_ms` as strftime's `format` writes it, in local time or UTC.
inline std::string format_time(int64_t unix_ms, const char* format, bool utc = false) {
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  if (utc) {
    gmtime_r(&t, &tm);
  } else {
    localtime_r(&t, &tm);
  }
  char buf[64];
  return std::string(buf, std::strftime(buf, sizeof buf, format, &tm));
}

}  // namespace rmm
