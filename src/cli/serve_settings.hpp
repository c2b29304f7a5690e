#pragma once
// `rmm serve`'s settings, each described once (as Ollama's envconfig does):
// its flags, its config.toml key, its environment variable, its default and
// its help. The command line options, the value lookup (flag > RMM_<NAME> >
// config.toml > default), the [serve] keys Config accepts and the README's
// settings table all come from this table.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rmm::cli {

struct ServeSetting {
  enum class Kind { Text, Int, Flag, List };
  std::string_view name;          // the long flag without "--": "ctx-size"; the setting's id
  std::string_view flags;         // CLI11 spelling: "-c,--ctx-size"
  std::string_view section;       // config.toml section: "serve" (the [cache] ones belong to the cache)
  std::string_view key;           // key in that section: "ctx_size"
  std::string_view default_text;  // as shown; computed defaults name where they come from
  std::string_view help;
  Kind kind = Kind::Text;
  int64_t lo = 0, hi = 0;         // Int: the accepted range
  std::string_view choices = {};  // Text: the accepted values, comma separated ("on,off,auto"), or empty
};

std::span<const ServeSetting> serve_settings();
// The one named `name` ("port"); rmm::Error(Internal) for another.
const ServeSetting& serve_setting(std::string_view name);
// The variable read for it: RMM_PORT for [serve] port, RMM_CACHE_TTL for [cache] ttl (Config's rule).
std::string env_name(const ServeSetting& s);
// The [serve] keys of the table, for Config::declare_keys.
std::vector<std::string> serve_config_keys();
// Tells Config the [serve] keys (once per process; before config.toml is loaded).
void declare_serve_config_keys();
// The README's settings table (Markdown), one row per setting.
std::string serve_settings_markdown();

}  // namespace rmm::cli
