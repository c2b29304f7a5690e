#include "server/system_info.hpp"

#include <fstream>
#include <sstream>
#include <thread>

#include "engine/backend.hpp"

namespace rmm::server {
namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

// /proc/meminfo values in bytes (MemTotal, MemAvailable).
std::pair<uint64_t, uint64_t> memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t value = 0, total = 0, available = 0;
  std::string unit;
  while (in >> key >> value >> unit) {
    if (key == "MemTotal:") total = value * 1024;
    if (key == "MemAvailable:") available = value * 1024;
  }
  return {total, available};
}

std::vector<std::string> cpu_features() {
  // llama.cpp's summary reads "AVX = 1 | AVX2 = 1 | ..."; keep the ones that are on.
  std::vector<std::string> out;
  std::istringstream in(engine::cpu_features());
  std::string part;
  while (std::getline(in, part, '|')) {
    const auto eq = part.find('=');
    if (eq == std::string::npos) continue;
    auto name = part.substr(0, eq);
    auto val = part.substr(eq + 1);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (const auto colon = name.find(':'); colon != std::string::npos)
      name = name.substr(name.find_first_not_of(' ', colon + 1));
    if (val.find('1') != std::string::npos) out.push_back(name);
  }
  return out;
}

}  // namespace

nlohmann::json system_info(const std::filesystem::path& home) {
  const auto [total, available] = memory();
  nlohmann::json gpus = nlohmann::json::array();
  for (const auto& d : engine::devices()) {
    if (d.type == "cpu") continue;
    gpus.push_back({{"name", d.name},
                    {"description", d.description},
                    {"type", d.type},
                    {"memory_total", d.memory_total},
                    {"memory_free", d.memory_free}});
  }
  std::error_code ec;
  auto probe = home;
  while (!probe.empty() && !std::filesystem::exists(probe, ec)) probe = probe.parent_path();
  const auto space = std::filesystem::space(probe.empty() ? std::filesystem::path("/") : probe, ec);
  return {
      {"cpu",
       {{"model", cpu_model()},
        {"threads", std::thread::hardware_concurrency()},
        {"features", cpu_features()}}},
      {"memory", {{"total", total}, {"available", available}}},
      {"gpus", std::move(gpus)},
      {"backends", engine::compiled_backends()},
      {"llama_cpp", engine::llama_cpp_version()},
      {"disk",
       {{"path", home.string()}, {"free", ec ? 0 : space.available}, {"total", ec ? 0 : space.capacity}}}};
}

}  // namespace rmm::server
