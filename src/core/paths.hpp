#pragma once
// Where rmm keeps its files: $RMM_HOME, default ~/Documents/rmm.
#include <filesystem>

namespace rmm::paths {

std::filesystem::path home();  // $RMM_HOME or ~/Documents/rmm
std::filesystem::path models_dir();
std::filesystem::path prompts_dir();
std::filesystem::path chats_dir();

}  // namespace rmm::paths
