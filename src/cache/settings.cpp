#include "cache/settings.hpp"

#include "core/error.hpp"
#include "core/units.hpp"

namespace rmm::cache {

CacheOptions options_from_config(const Config& config) {
  CacheOptions o;
  o.enabled = config.get_bool("cache", "enabled", true);
  if (const auto v = config.get("cache", "ttl")) o.ttl_ms = parse_duration_ms(v->first, v->second);
  if (const auto v = config.get("cache", "max_size"))
    o.max_bytes = static_cast<int64_t>(parse_size(v->first, v->second));
  return o;
}

}  // namespace rmm::cache
