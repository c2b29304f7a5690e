#pragma once
// What the machine has: CPU, memory, GPUs, backends and free disk, for
// GET /api/system/info (and later the dashboard).
#include <filesystem>
#include <nlohmann/json.hpp>

namespace rmm::server {

nlohmann::json system_info(const std::filesystem::path& home);

}  // namespace rmm::server
