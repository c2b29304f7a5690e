#include "core/units.hpp"

#include <cstdio>
#include <exception>
#include <initializer_list>
#include <optional>
#include <utility>

#include "core/error.hpp"

namespace rmm {

namespace {

using Unit = std::pair<const char*, double>;

// `text` as a non-negative number with an optional unit (a space may come
// between), scaled by the unit; nullopt when it is not one or reaches `limit`.
std::optional<double> scaled(const std::string& text, std::initializer_list<Unit> units, double limit) {
  size_t used = 0;
  double n = -1;
  try {
    n = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  unit.erase(0, unit.find_first_not_of(' '));
  for (const auto& [name, mult] : units) {
    if (unit == name && n >= 0 && n * mult < limit) return n * mult;
  }
  return std::nullopt;
}

}  // namespace

uint64_t parse_size(const std::string& text, const std::string& what) {
  const auto v = scaled(text,
                        {{"", 1},
                         {"B", 1},
                         {"KB", 1e3},
                         {"MB", 1e6},
                         {"GB", 1e9},
                         {"TB", 1e12},
                         {"KiB", 1024.0},
                         {"MiB", 1048576.0},
                         {"GiB", 1073741824.0},
                         {"TiB", 1099511627776.0},
                         {"K", 1024.0},
                         {"M", 1048576.0},
                         {"G", 1073741824.0}},
                        1.8e19);
  if (v) return static_cast<uint64_t>(*v);
  throw Error(
      ErrorKind::InvalidArgument,
      what + " '" + text + "' is not a size (a number with an optional unit: B, KiB, MiB, GiB, KB, MB, GB)");
}

int64_t parse_duration_ms(const std::string& text, const std::string& what) {
  const auto v = scaled(text,
                        {{"", 1000.0},
                         {"ms", 1.0},
                         {"s", 1000.0},
                         {"m", 60000.0},
                         {"min", 60000.0},
                         {"h", 3.6e6},
                         {"d", 8.64e7},
                         {"w", 6.048e8}},
                        9.2e18);
  if (v) return static_cast<int64_t>(*v);
  throw Error(ErrorKind::InvalidArgument,
              what + " '" + text +
                  "' is not a duration (a number with an optional unit: ms, s, m, "
                  "h, d, w; 0 for no limit)");
}

std::string format_bytes(uint64_t bytes) {
  char buf[32];
  const double v = static_cast<double>(bytes);
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else if (bytes < (1ull << 20)) {
    std::snprintf(buf, sizeof buf, "%.2f KiB", v / 1024.0);
  } else if (bytes < (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.2f MiB", v / (1024.0 * 1024.0));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GiB", v / (1024.0 * 1024.0 * 1024.0));
  }
  return buf;
}

}  // namespace rmm
