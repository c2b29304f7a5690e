#pragma once
// API keys: how they are made, hashed and matched. A key is 256 random bits
// in base62 behind the prefix "rmm-", shown once; only its SHA-256 is stored.
// A fast hash is right here: the key has full entropy, so there is nothing to
// guess offline that a slow password hash would protect, and every request
// pays the hash.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmm::access {

inline constexpr std::string_view kKeyPrefix = "rmm-";

// Each scope includes the ones below it: admin > generate > read.
enum class Scope { Read = 0, Generate = 1, Admin = 2 };

const char* scope_name(Scope s);
// "read", "generate", "admin"; nullopt otherwise.
std::optional<Scope> parse_scope(std::string_view text);

// A new key from the kernel's random source ("rmm-" + 43 base62 characters).
std::string generate_key();
// Lowercase hex SHA-256 of the key.
std::string hash_key(std::string_view key);
// The part of a key shown in lists: its prefix and 4 more characters.
std::string key_prefix(std::string_view key);
// Equal contents, in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

// Shell-style glob: '*' any run of characters, '?' one character; ASCII
// letters match in any case (model names resolve in any case too).
bool glob_match(std::string_view pattern, std::string_view text);

// Key names: 1..64 of [A-Za-z0-9._-]. Throws rmm::Error(InvalidArgument).
void check_key_name(const std::string& name);

}  // namespace rmm::access
