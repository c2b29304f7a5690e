#include "core/config.hpp"

#include <spdlog/spdlog.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>

#include "core/error.hpp"
#include "core/paths.hpp"

namespace rmm {

namespace {

using KnownKeys = std::map<std::string, std::set<std::string>, std::less<>>;

// Every key the code reads, by section: the one list that unknown keys in
// config.toml are checked against (Config::get refuses any other). [serve]'s
// keys are the server's settings, declared by the front end that owns them
// (src/cli/serve_settings.cpp); the others are read here in the core.
KnownKeys& known_keys() {
  static KnownKeys keys = {
      {"serve", {}},
      {"cache", {"enabled", "max_size", "ttl"}},
      {"models", {"extra_dirs"}},
  };
  return keys;
}

std::mutex& known_keys_mutex() {
  static std::mutex mutex;
  return mutex;
}

KnownKeys known_keys_now() {
  std::lock_guard lock(known_keys_mutex());
  return known_keys();
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// "; did you mean 'port'?" for a near miss (a typo, '-' for '_'), else "".
std::string suggestion(std::string_view name, const std::set<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;  // at most two edits away
  for (const auto& c : candidates) {
    if (const size_t d = edit_distance(name, c); d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

// toml++ bounds nested values (inline arrays and tables: TOML_MAX_NESTED_VALUES,
// 256, a clean parse error), but not dotted keys: `a.a.a... = 1` or a header
// `[a.a.a...]` of ~100,000 parts makes its parser recurse once per table and
// overflow the stack. Config keys have one or two parts; deeper ones are
// refused first, in one linear pass (dots outside strings and comments, counted
// along a run of key characters: `=`, `,`, brackets and line ends end a run).
constexpr int kMaxKeyParts = 64;

void check_key_depth(std::string_view text, const std::string& file) {
  int dots = 0, line = 1;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"' || c == '\'') {
      // A quoted key part or a string value: its bytes are text. The run goes on ("a"."b" is dotted).
      const std::string_view close = text.substr(i, text.substr(i, 3) == std::string(3, c) ? 3 : 1);
      for (i += close.size(); i < text.size(); ++i) {
        if (c == '"' && text[i] == '\\' && i + 1 < text.size()) {
          if (text[++i] == '\n') ++line;  // the escaped byte never closes the string
          continue;
        }
        if (text[i] == '\n') {
          if (close.size() == 1) break;  // unterminated: toml++ says so
          ++line;
        }
        if (text.substr(i, close.size()) == close) {
          i += close.size();
          break;
        }
      }
      continue;
    }
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (c == '.') {
      if (++dots >= kMaxKeyParts)
        throw Error(ErrorKind::InvalidArgument, file + ":" + std::to_string(line) +
                                                    ": a dotted key or table header is nested deeper than " +
                                                    std::to_string(kMaxKeyParts) + " levels");
    } else if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != ' ' &&
               c != '\t') {
      dots = 0;
      if (c == '\n') ++line;
    }
    ++i;
  }
}

}  // namespace

std::filesystem::path Config::default_path() { return paths::home() / "config.toml"; }

void Config::declare_keys(const std::string& section, const std::vector<std::string>& keys) {
  std::lock_guard lock(known_keys_mutex());
  known_keys()[section].insert(keys.begin(), keys.end());
}

Config Config::load(const std::filesystem::path& file) {
  Config c;
  c.file_ = file;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return c;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorKind::BadFile, "cannot read " + file.string());  // a runtime error, not usage
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  check_key_depth(text, file.string());
  toml::table root;
  try {
    root = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    throw Error(ErrorKind::InvalidArgument, file.string() + ":" + std::to_string(e.source().begin.line) +
                                                ": " + std::string(e.description()));
  }
  const std::string name = file.string();
  // Collected with their lines, to be told in file order (toml++ keeps keys sorted).
  std::vector<std::pair<uint32_t, std::string>> ignored;
  const auto warn = [&](const toml::source_region& at, const std::string& text) {
    ignored.emplace_back(at.begin.line, name + ":" + std::to_string(at.begin.line) + ": " + text);
  };
  const KnownKeys known_now = known_keys_now();
  std::set<std::string> section_names;
  for (const auto& [section, keys] : known_now) section_names.insert(section);
  for (const auto& [section, node] : root) {
    const auto* table = node.as_table();
    if (!table) {
      warn(section.source(),
           "'" + std::string(section.str()) +
               "' is outside any section (ignored; put it under [serve], [cache] or [models])");
      continue;
    }
    const auto known = known_now.find(section.str());
    if (known == known_now.end()) {
      warn(section.source(), "unknown section [" + std::string(section.str()) + "] (ignored" +
                                 suggestion(section.str(), section_names) + ")");
      continue;
    }
    for (const auto& [key, value] : *table) {
      const std::string in_section = " in [" + std::string(section.str()) + "]";
      if (!known->second.contains(std::string(key.str()))) {
        warn(key.source(), "unknown key '" + std::string(key.str()) + "'" + in_section + " (ignored" +
                               suggestion(key.str(), known->second) + ")");
        continue;
      }
      std::string text;
      if (auto s = value.value<std::string>()) {
        text = *s;
      } else if (auto i = value.value<int64_t>()) {
        text = std::to_string(*i);
      } else if (auto b = value.value<bool>()) {
        text = *b ? "true" : "false";
      } else if (auto d = value.value<double>()) {
        text = std::to_string(*d);
      } else {
        warn(key.source(), "'" + std::string(key.str()) + "'" + in_section +
                               " must be a string, a number or true/false (ignored)");
        continue;
      }
      c.values_[std::string(section.str()) + "." + std::string(key.str())] = text;
    }
  }
  std::stable_sort(ignored.begin(), ignored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [line, text] : ignored) c.warnings_.push_back(std::move(text));
  // Several commands load the same file; each warning is worth one line per run.
  static std::mutex mutex;
  static std::set<std::string> warned;
  std::lock_guard lock(mutex);
  if (warned.insert(name).second) {
    for (const auto& w : c.warnings_) spdlog::warn("{}", w);
  }
  return c;
}

std::optional<std::pair<std::string, std::string>> Config::get(const std::string& section,
                                                               const std::string& key) const {
  {
    std::lock_guard lock(known_keys_mutex());
    const auto known = known_keys().find(section);
    if (known == known_keys().end() || !known->second.contains(key))
      throw Error(ErrorKind::Internal, "setting [" + section + "] " + key +
                                           " is read but is no known key (config.cpp's list, or declared)");
  }
  // [serve] keys are the server's flags (RMM_PORT); other sections name
  // themselves so that keys cannot collide (RMM_CACHE_TTL for [cache] ttl).
  std::string env = section == "serve" ? "RMM_" : "RMM_" + section + "_";
  for (auto& ch : env) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  for (char ch : key)
    env += ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (const char* v = std::getenv(env.c_str()); v && *v) return std::make_pair(std::string(v), env);
  if (auto it = values_.find(section + "." + key); it != values_.end())
    return std::make_pair(it->second, file_.filename().string() + " [" + section + "] " + key);
  return std::nullopt;
}

std::string Config::get_string(const std::string& section, const std::string& key,
                               const std::string& fallback) const {
  const auto v = get(section, key);
  return v ? v->first : fallback;
}

int64_t Config::get_int(const std::string& section, const std::string& key, int64_t fallback, int64_t lo,
                        int64_t hi) const {
  const auto v = get(section, key);
  if (!v) return fallback;
  size_t used = 0;
  int64_t n = 0;
  try {
    n = std::stoll(v->first, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v->first.size() || n < lo || n > hi) {
    throw Error(ErrorKind::InvalidArgument, v->second + " = '" + v->first + "' must be an integer in " +
                                                std::to_string(lo) + ".." + std::to_string(hi));
  }
  return n;
}

bool Config::get_bool(const std::string& section, const std::string& key, bool fallback) const {
  const auto v = get(section, key);
  if (!v) return fallback;
  if (v->first == "true" || v->first == "1" || v->first == "yes") return true;
  if (v->first == "false" || v->first == "0" || v->first == "no") return false;
  throw Error(ErrorKind::InvalidArgument, v->second + " = '" + v->first + "' must be true or false");
}

}  // namespace rmm
