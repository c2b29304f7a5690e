#include "core/paths.hpp"

#include <cstdlib>

namespace rmm::paths {

std::filesystem::path home() {
  if (const char* env = std::getenv("RMM_HOME"); env && *env) return env;
  const char* h = std::getenv("HOME");
  return std::filesystem::path(h && *h ? h : ".") / "Documents" / "rmm";
}

std::filesystem::path models_dir() { return home() / "models"; }
std::filesystem::path prompts_dir() { return home() / "prompts"; }
std::filesystem::path chats_dir() { return home() / "chats"; }

}  // namespace rmm::paths
