#include "server/cache_control.hpp"

#include <algorithm>
#include <cctype>

namespace rmm::server {

namespace {

// Cache-Control directives, lower case, without arguments.
bool has_directive(std::string value, const std::string& directive) {
  std::transform(value.begin(), value.end(), value.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t end = value.find(',', pos);
    if (end == std::string::npos) end = value.size();
    std::string item = value.substr(pos, end - pos);
    item = item.substr(0, item.find('='));
    const auto first = item.find_first_not_of(" \t");
    const auto last = item.find_last_not_of(" \t");
    if (first != std::string::npos && item.substr(first, last - first + 1) == directive) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace

cache::Policy cache_policy(const Request& request, bool body_allows) {
  cache::Policy p;
  if (!body_allows) return {false, false};
  for (const auto& field : request) {
    if (field.name() != http::field::cache_control) continue;
    const std::string v(field.value());
    if (has_directive(v, "no-store")) return {false, false};
    if (has_directive(v, "no-cache")) p.read = false;
  }
  return p;
}

}  // namespace rmm::server
