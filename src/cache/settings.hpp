#pragma once
// The response cache's settings: [cache] in config.toml (enabled, ttl,
// max_size), which `rmm serve` flags override.
#include <cstdint>
#include <string>

#include "cache/response_cache.hpp"
#include "core/config.hpp"

namespace rmm::cache {

// [cache] enabled (true), ttl ("24h"), max_size ("256MiB"; "0" for no bound).
CacheOptions options_from_config(const Config& config);

}  // namespace rmm::cache
