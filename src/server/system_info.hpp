#pragma once
// What the machine has and how busy it is, as JSON for GET /api/system/info,
// GET /api/system/usage and the dashboard: the hardware probe (CPU, RAM,
// GPUs, backends), free disk under RMM_HOME and, when a resource monitor is
// running, its latest sample under "usage".
#include <filesystem>
#include <nlohmann/json.hpp>

#include "models/hardware.hpp"
#include "models/resource_monitor.hpp"

namespace rmm::server {

// {cpu: {model, threads, physical_cores, logical_threads, usable_threads, features},
//  memory: {total, available, used}, gpus: [{name, description, type, memory_total, memory_free,
//  memory_used}], backends, llama_cpp, disk: {path, free, total}, usage: sample | null}.
// `threads` (= logical_threads) is kept for older clients. "usage" is
// `monitor`'s latest sample (null without a monitor or before its first).
nlohmann::json system_info(const std::filesystem::path& home,
                           const models::ResourceMonitor* monitor = nullptr);

nlohmann::json hardware_json(const models::Hardware& hw);
// {time_ms, interval_ms, cpus, process: {cpu_percent, cpu_percent_total, rss},
//  system: {cpu_percent, cpu_percent_per_core, ram_total, ram_available, ram_used},
//  gpus: [{name, memory_total, memory_free, memory_used}]}
nlohmann::json usage_json(const models::UsageSample& s);

}  // namespace rmm::server
