#pragma once
// Settings from $RMM_HOME/config.toml and RMM_* environment variables. Front
// ends apply their command-line flags last, so the order is flag > env > file
// > default. A key `port` in section `serve` is read from RMM_PORT, then from
// `[serve] port = ...` in the file; keys of other sections carry the section in
// their variable (`[cache] ttl` from RMM_CACHE_TTL).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

// parse_size and parse_duration_ms live in core/units.hpp now; included here only until
// src/serving/model_reaper.cpp includes it itself.
#include "core/units.hpp"

namespace rmm {

class Config {
 public:
  // A missing file is an empty config; a broken one is rmm::Error(InvalidArgument) naming file and line.
  // Keys the code never reads (a typo, an old name) are kept in warnings() and logged once per file.
  static Config load(const std::filesystem::path& file);
  static std::filesystem::path default_path();  // $RMM_HOME/config.toml
  // Adds keys a section accepts, for settings a caller describes ([serve]'s:
  // the server's settings table in the CLI), before the file is loaded: the
  // core keeps the keys it reads itself and knows no front end.
  static void declare_keys(const std::string& section, const std::vector<std::string>& keys);

  // The raw value and where it came from ("RMM_PORT" or "config.toml [serve] port").
  // Only keys in the known list (config.cpp, or declared) may be asked for: another is
  // rmm::Error(Internal), so that the list and the code cannot drift apart.
  std::optional<std::pair<std::string, std::string>> get(const std::string& section,
                                                         const std::string& key) const;

  std::string get_string(const std::string& section, const std::string& key,
                         const std::string& fallback) const;
  int64_t get_int(const std::string& section, const std::string& key, int64_t fallback, int64_t lo,
                  int64_t hi) const;
  bool get_bool(const std::string& section, const std::string& key, bool fallback) const;

  // "FILE:LINE: unknown key 'prot' in [serve] (ignored; did you mean 'port'?)", one per ignored entry.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  std::filesystem::path file_;
  std::map<std::string, std::string> values_;  // "section.key" → value as text
  std::vector<std::string> warnings_;
};

}  // namespace rmm
