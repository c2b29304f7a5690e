#pragma once
// Sizes and durations as people write and read them: parse_size ("8MiB") and
// parse_duration_ms ("90s") read settings; format_bytes writes sizes back
// ("812 B", "1.13 MiB", "4.58 GiB": binary units, two decimals).
#include <cstdint>
#include <string>

namespace rmm {

std::string format_bytes(uint64_t bytes);

// "512MiB", "8GiB", "1048576" → bytes; throws rmm::Error(InvalidArgument) naming `what`.
uint64_t parse_size(const std::string& text, const std::string& what);
// "90s", "30m", "24h", "7d", "1500ms", a bare number of seconds, or "0" →
// milliseconds; throws rmm::Error(InvalidArgument) naming `what`.
int64_t parse_duration_ms(const std::string& text, const std::string& what);

}  // namespace rmm
