#pragma once
// The query string of a request target (?a=1&b=x%20y) as decoded name/value
// pairs: percent escapes and '+' for space, as browsers send forms.
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

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// "%41+b" → "A b". A malformed escape is kept as it is.
std::string percent_decode(std::string_view s);

}  // namespace rmm::server
