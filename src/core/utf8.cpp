#include "core/utf8.hpp"

namespace rmm::utf8 {
namespace {

// Expected sequence length from a lead byte; 0 for a continuation or invalid byte.
int sequence_length(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

size_t complete_prefix_length(std::string_view s) {
  // Only the last 3 bytes can belong to an unfinished sequence.
  const size_t n = s.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if (is_continuation(c)) continue;
    const int len = sequence_length(c);
    if (len > static_cast<int>(back)) return n - back;  // lead byte still waiting for its tail
    return n;
  }
  return n;
}

// Length of the valid sequence starting at s[i], or 0 when it is invalid or cut short.
static size_t valid_sequence_at(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const int len = sequence_length(c);
  if (len == 0 || i + len > s.size()) return 0;
  for (int k = 1; k < len; ++k) {
    if (!is_continuation(static_cast<unsigned char>(s[i + k]))) return 0;
  }
  if (len >= 3) {
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // surrogate
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return 0;  // > U+10FFFF
  }
  return static_cast<size_t>(len);
}

bool is_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = valid_sequence_at(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t len = valid_sequence_at(s, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      // One replacement per maximal invalid run of continuation bytes.
      while (i < s.size() && is_continuation(static_cast<unsigned char>(s[i]))) ++i;
      continue;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  return out;
}

}  // namespace rmm::utf8
