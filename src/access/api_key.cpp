#include "access/api_key.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "core/sha256.hpp"

namespace rmm::access {

const char* scope_name(Scope s) {
  switch (s) {
    case Scope::Read: return "read";
    case Scope::Generate: return "generate";
    case Scope::Admin: return "admin";
  }
  return "read";
}

std::optional<Scope> parse_scope(std::string_view text) {
  if (text == "read") return Scope::Read;
  if (text == "generate") return Scope::Generate;
  if (text == "admin") return Scope::Admin;
  return std::nullopt;
}

std::string generate_key() {
  // 43 base62 digits carry 256 bits; rejection sampling keeps each digit uniform.
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string key(kKeyPrefix);
  std::array<uint8_t, 64> pool{};
  size_t used = pool.size();
  while (key.size() < kKeyPrefix.size() + 43) {
    if (used == pool.size()) {
      size_t got = 0;
      while (got < pool.size()) {
        const ssize_t n = getrandom(pool.data() + got, pool.size() - got, 0);
        if (n < 0) {
          if (errno == EINTR) continue;
          throw Error(ErrorKind::Internal, std::string("no random bytes for a key: ") + std::strerror(errno));
        }
        got += static_cast<size_t>(n);
      }
      used = 0;
    }
    const uint8_t b = pool[used++];
    if (b < 248) key.push_back(kDigits[b % 62]);  // 248 = 4 * 62
  }
  return key;
}

std::string hash_key(std::string_view key) { return rmm::sha256_hex(key); }

std::string key_prefix(std::string_view key) {
  return std::string(key.substr(0, std::min(key.size(), kKeyPrefix.size() + 4)));
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = static_cast<unsigned char>(diff | (a[i] ^ b[i]));
  // Read through a volatile, so the compiler cannot turn the loop into an early-exit compare.
  const volatile unsigned char result = diff;
  return result == 0;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative with one backtrack point: linear in practice, no recursion on hostile patterns.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  auto same = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || (pattern[p] != '*' && same(pattern[p], text[t])))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

void check_key_name(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
  if (!ok)
    throw Error(
        ErrorKind::InvalidArgument,
        "key name '" + name.substr(0, 80) + "' is not valid: use 1 to 64 letters, digits, '.', '_' or '-'");
}

}  // namespace rmm::access
