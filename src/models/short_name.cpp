#include "models/short_name.hpp"

#include <cctype>

#include "core/error.hpp"
#include "core/utf8.hpp"

namespace rmm::models {

namespace {

constexpr size_t kMaxNameBytes = 128;
constexpr size_t kMaxBaseBytes = 80;

// Lowercase [a-z0-9._+-]; every other run of characters becomes one '-';
// no "..", no leading or trailing separators.
std::string sanitize(const std::string& text, bool keep_underscore) {
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x80) continue;  // non-ASCII letters are dropped, not turned into dashes
    char ch = static_cast<char>(std::tolower(c));
    const bool ok = std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '+' || ch == '-' ||
                    (keep_underscore && ch == '_');
    if (!ok) ch = '-';
    if ((ch == '-' || ch == '.') && !out.empty() && (out.back() == '-' || out.back() == '.')) {
      if (out.back() == '.' && ch == '-') out.back() = '-';
      continue;
    }
    out += ch;
  }
  while (!out.empty() && (out.front() == '-' || out.front() == '.')) out.erase(out.begin());
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  if (out.size() > kMaxBaseBytes) out.resize(kMaxBaseBytes);
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  return out;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::string short_name_candidate(const std::string& general_name, const std::string& stem,
                                 const std::string& quantization, const std::string& suffix) {
  const std::string quant = sanitize(quantization, true);
  // The file name first: it is what people see and type, and general.name is
  // often just the architecture ("llama") or a converter's default.
  std::string base = sanitize(stem, true);
  // "model-q4_k_m" with quantization q4_k_m: the quantization goes after the ':'.
  for (const char* sep : {"-", ".", "_"}) {
    if (!quant.empty() && ends_with(base, sep + quant)) {
      base.resize(base.size() - quant.size() - 1);
      break;
    }
  }
  while (!base.empty() && (base.back() == '-' || base.back() == '.' || base.back() == '_')) base.pop_back();
  if (base.empty() || base == "model" || base == "ggml-model") {
    const std::string named = sanitize(general_name, false);
    if (!named.empty()) base = named;
  }
  if (base.empty()) base = "model";
  if (!suffix.empty() && base.find(suffix) == std::string::npos) base += "-" + suffix;
  return quant.empty() ? base : base + ":" + quant;
}

std::string unique_short_name(const std::string& candidate,
                              const std::function<bool(const std::string&)>& taken) {
  if (!taken(candidate)) return candidate;
  const auto colon = candidate.find(':');
  const std::string base = candidate.substr(0, colon);
  const std::string tail = colon == std::string::npos ? "" : candidate.substr(colon);
  for (int n = 2;; ++n) {
    std::string name = base + "-" + std::to_string(n) + tail;
    if (!taken(name)) return name;
  }
}

bool looks_like_path(const std::string& name) {
  return name.find('/') != std::string::npos || name.find('\\') != std::string::npos ||
         name.find("..") != std::string::npos;
}

void check_name(const std::string& name, const std::string& what) {
  auto bad = [&](const std::string& why) {
    throw Error(ErrorKind::InvalidArgument, what + " '" + name + "' " + why);
  };
  if (name.empty()) throw Error(ErrorKind::InvalidArgument, what + " is empty");
  if (name.size() > kMaxNameBytes) bad("is longer than 128 bytes");
  if (!utf8::is_valid(name)) bad("is not valid UTF-8");
  if (looks_like_path(name)) bad("contains '/', '\\' or '..' (names are not paths)");
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f || c == ' ') bad("contains whitespace or control characters");
}

}  // namespace rmm::models
