#include "server/system_info.hpp"

#include <cmath>

#include "engine/backend.hpp"

namespace rmm::server {
namespace {

// Percentages to one decimal: the dashboard needs no more, and the JSON stays short.
double tenth(double v) { return std::round(v * 10.0) / 10.0; }

}  // namespace

nlohmann::json hardware_json(const models::Hardware& hw) {
  nlohmann::json gpus = nlohmann::json::array();
  for (const auto& g : hw.gpus) {
    gpus.push_back({{"name", g.name},
                    {"description", g.description},
                    {"type", g.type},
                    {"memory_total", g.memory_total},
                    {"memory_free", g.memory_free},
                    {"memory_used", g.memory_total > g.memory_free ? g.memory_total - g.memory_free : 0}});
  }
  return {
      {"cpu",
       {{"model", hw.cpu.model},
        {"threads", hw.cpu.logical_threads},
        {"physical_cores", hw.cpu.physical_cores},
        {"logical_threads", hw.cpu.logical_threads},
        {"usable_threads", hw.cpu.usable_threads},
        {"features", hw.cpu.features}}},
      {"memory",
       {{"total", hw.ram.total}, {"available", hw.ram.available}, {"used", hw.ram.total - hw.ram.available}}},
      {"gpus", std::move(gpus)},
      {"backends", hw.backends}};
}

nlohmann::json usage_json(const models::UsageSample& s) {
  nlohmann::json per_core = nlohmann::json::array();
  for (double c : s.system_cpu_per_core) per_core.push_back(tenth(c));
  nlohmann::json gpus = nlohmann::json::array();
  for (const auto& g : s.gpus) {
    gpus.push_back({{"name", g.name},
                    {"memory_total", g.memory_total},
                    {"memory_free", g.memory_free},
                    {"memory_used", g.memory_used}});
  }
  return {{"time_ms", s.unix_ms},
          {"interval_ms", static_cast<int64_t>(std::llround(s.interval_ms))},
          {"cpus", s.cpus},
          {"process",
           {{"cpu_percent", tenth(s.process_cpu)},
            {"cpu_percent_total", tenth(s.process_cpu_total)},
            {"rss", s.process_rss}}},
          {"workers",  // the model worker processes together: where the models' memory is
           {{"count", s.workers}, {"cpu_percent", tenth(s.workers_cpu)}, {"rss", s.workers_rss}}},
          {"system",
           {{"cpu_percent", tenth(s.system_cpu)},
            {"cpu_percent_per_core", std::move(per_core)},
            {"ram_total", s.ram_total},
            {"ram_available", s.ram_available},
            {"ram_used", s.ram_used}}},
          {"gpus", std::move(gpus)}};
}

nlohmann::json system_info(const std::filesystem::path& home, const models::ResourceMonitor* monitor) {
  auto info = hardware_json(models::probe());
  info["llama_cpp"] = engine::llama_cpp_version();

  std::error_code ec;
  auto probe = home;
  while (!probe.empty() && !std::filesystem::exists(probe, ec)) probe = probe.parent_path();
  const auto space = std::filesystem::space(probe.empty() ? std::filesystem::path("/") : probe, ec);
  info["disk"] = {
      {"path", home.string()}, {"free", ec ? 0 : space.available}, {"total", ec ? 0 : space.capacity}};

  nlohmann::json usage = nullptr;
  if (monitor) {
    if (auto s = monitor->latest()) usage = usage_json(*s);
  }
  info["usage"] = std::move(usage);
  return info;
}

}  // namespace rmm::server
