#include "server/cors.hpp"

namespace rmm::server {

bool origin_allowed(const std::string& origin, const std::vector<std::string>& allowed_origins) {
  for (const auto& a : allowed_origins) {
    if (a == "*" || a == origin) return true;
  }
  for (const char* scheme : {"http://", "https://"}) {
    for (const char* host : {"localhost", "127.0.0.1", "[::1]"}) {
      const std::string base = std::string(scheme) + host;
      if (origin == base || origin.rfind(base + ":", 0) == 0) return true;
    }
  }
  return false;
}

}  // namespace rmm::server
