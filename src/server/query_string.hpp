#pragma once
// The query string of a request target (?a=1&b=x%20y) as decoded name/value
// pairs: percent escapes and '+' for space, as browsers send forms.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmm::server {

class QueryString {
 public:
  // Parses the part of `target` after '?' (all of it is the path when there is none).
  explicit QueryString(std::string_view target);

  // The first value of `name`, decoded; nullopt when absent.
  std::optional<std::string> get(const std::string& name) const;
  // The integer value of `name` from lo to hi, `fallback` when absent; else a
  // 400 ApiError naming it ("'limit' must be an integer from 1 to 200 (got 'x')").
  int64_t integer(const std::string& name, int64_t fallback, int64_t lo, int64_t hi) const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// "%41+b" → "A b". A malformed escape is kept as it is.
std::string percent_decode(std::string_view s);

}  // namespace rmm::server
