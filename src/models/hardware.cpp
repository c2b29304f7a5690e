#include "models/hardware.hpp"

#include <sched.h>

#include <charconv>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "engine/backend.hpp"

namespace rmm::models {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// Splits "key\t: value" lines; false for lines without a colon.
bool key_value(std::string_view line, std::string_view& key, std::string_view& value) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  key = trim(line.substr(0, colon));
  value = trim(line.substr(colon + 1));
  return true;
}

int to_int(std::string_view s, int fallback) {
  int v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && ptr != s.data() ? v : fallback;
}

template <typename F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    const auto nl = text.find('\n');
    f(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

int affinity_threads() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
  return CPU_COUNT(&set);
}

// What never changes while the process runs: read once.
struct StaticPart {
  CpuInfo cpu;
  std::vector<std::string> backends;
};

const StaticPart& static_part() {
  static StaticPart part;
  static std::once_flag once;
  std::call_once(once, [] {
    const auto text = parse_cpuinfo(read_small_file("/proc/cpuinfo"));
    part.cpu.model = text.model;
    part.cpu.logical_threads = text.logical_threads;
    part.cpu.physical_cores = text.physical_cores;
    if (part.cpu.logical_threads <= 0)
      part.cpu.logical_threads = static_cast<int>(std::thread::hardware_concurrency());
    if (part.cpu.physical_cores <= 0) part.cpu.physical_cores = part.cpu.logical_threads;
    part.cpu.features = cpu_feature_names(parse_system_features(engine::cpu_features()));
    part.backends = engine::compiled_backends();
  });
  return part;
}

}  // namespace

std::string read_small_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

CpuInfoText parse_cpuinfo(std::string_view text) {
  CpuInfoText out;
  std::string model, hardware;
  std::set<std::pair<int, int>> cores;           // (physical id, core id)
  std::map<int, int> cores_per_package;          // physical id -> "cpu cores"
  int physical = -1, core = -1, cpu_cores = -1;  // of the processor block being read
  auto end_block = [&] {
    if (core >= 0) cores.emplace(physical, core);
    if (cpu_cores > 0) cores_per_package[physical] = cpu_cores;
    physical = core = cpu_cores = -1;
  };
  for_each_line(text, [&](std::string_view line) {
    std::string_view key, value;
    if (trim(line).empty()) {
      end_block();
      return;
    }
    if (!key_value(line, key, value)) return;
    if (key == "processor") {
      end_block();
      ++out.logical_threads;
    } else if (key == "model name" && model.empty()) {
      model = value;
    } else if (key == "Hardware" && hardware.empty()) {
      hardware = value;
    } else if (key == "physical id") {
      physical = to_int(value, -1);
    } else if (key == "core id") {
      core = to_int(value, -1);
    } else if (key == "cpu cores") {
      cpu_cores = to_int(value, -1);
    }
  });
  end_block();
  if (!model.empty()) {
    out.model = model;
  } else if (!hardware.empty()) {
    out.model = hardware;
  }
  if (!cores.empty()) {
    out.physical_cores = static_cast<int>(cores.size());
  } else if (!cores_per_package.empty()) {
    for (const auto& [package, n] : cores_per_package) out.physical_cores += n;
  } else {
    out.physical_cores = out.logical_threads;
  }
  return out;
}

RamInfo parse_meminfo(std::string_view text) {
  RamInfo out;
  uint64_t free = 0, buffers = 0, cached = 0;
  bool has_available = false;
  for_each_line(text, [&](std::string_view line) {
    std::string_view key, value;
    if (!key_value(line, key, value)) return;
    uint64_t n = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc()) return;
    // Values are in kB (really KiB) unless a line has no unit (HugePages_* counts).
    if (trim(std::string_view(ptr, value.data() + value.size() - ptr)) == "kB") n *= 1024;
    if (key == "MemTotal") out.total = n;
    if (key == "MemAvailable") {
      out.available = n;
      has_available = true;
    }
    if (key == "MemFree") free = n;
    if (key == "Buffers") buffers = n;
    if (key == "Cached") cached = n;
  });
  if (!has_available) out.available = free + buffers + cached;
  if (out.available > out.total) out.available = out.total;
  return out;
}

std::vector<BuildFeature> parse_system_features(std::string_view text) {
  std::vector<BuildFeature> out;
  std::string backend;
  while (!text.empty()) {
    const auto bar = text.find('|');
    std::string_view part = text.substr(0, bar);
    text.remove_prefix(bar == std::string_view::npos ? text.size() : bar + 1);
    // "CPU : SSE3 = 1" opens a backend's group; "AVX = 1" continues it.
    if (const auto colon = part.find(':'); colon != std::string_view::npos) {
      backend = trim(part.substr(0, colon));
      part = part.substr(colon + 1);
    }
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const auto name = trim(part.substr(0, eq));
    if (name.empty()) continue;
    out.push_back({backend, std::string(name), std::string(trim(part.substr(eq + 1)))});
  }
  return out;
}

std::vector<std::string> cpu_feature_names(const std::vector<BuildFeature>& features) {
  std::vector<std::string> out;
  for (const auto& f : features)
    if (f.backend == "CPU" && f.value == "1") out.push_back(f.name);
  return out;
}

Hardware probe() {
  const auto& fixed = static_part();
  Hardware hw;
  hw.cpu = fixed.cpu;
  hw.cpu.usable_threads = affinity_threads();
  if (hw.cpu.usable_threads <= 0) hw.cpu.usable_threads = hw.cpu.logical_threads;
  hw.backends = fixed.backends;
  hw.ram = parse_meminfo(read_small_file("/proc/meminfo"));
  for (const auto& d : engine::devices()) {
    if (d.type == "cpu") continue;
    hw.gpus.push_back({d.name, d.description, d.type, d.memory_total, d.memory_free});
  }
  return hw;
}

}  // namespace rmm::models
