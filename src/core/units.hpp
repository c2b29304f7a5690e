#pragma once
// Sizes for people to read: "812 B", "1.13 MiB", "4.58 GiB" (binary units,
// two decimals), the inverse of parse_size in core/config.hpp.
#include <cstdint>
#include <string>

namespace rmm {

std::string format_bytes(uint64_t bytes);

}  // namespace rmm
