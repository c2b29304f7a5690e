#include "engine/text_release.hpp"

#include <algorithm>

#include "core/utf8.hpp"

namespace rmm::engine {
namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

TextRelease::TextRelease(std::vector<std::string> stops) {
  for (auto& s : stops) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

size_t TextRelease::max_stop_prefix_suffix() const {
  // The longest tail of pending_ that is the start of some stop string: those
  // bytes may still turn into a stop, so they must wait.
  size_t best = 0;
  for (const auto& stop : stops_) {
    const size_t limit = std::min(stop.size() - 1, pending_.size());
    for (size_t len = limit; len > best; --len) {
      if (pending_.compare(pending_.size() - len, len, stop, 0, len) == 0) {
        best = len;
        break;
      }
    }
  }
  return best;
}

std::vector<std::string> TextRelease::release(size_t n_bytes, size_t n_tokens) {
  // A boundary inside a character moves back to where the character starts, so
  // the character goes out whole with the token that completes it.
  std::vector<std::string> texts;
  texts.reserve(n_tokens);
  size_t start = 0, end = 0;
  for (size_t i = 0; i < n_tokens; ++i) {
    end = std::min(end + held_[i], n_bytes);
    size_t cut = (i + 1 == n_tokens) ? n_bytes : end;
    while (cut > start && cut < n_bytes && is_continuation(pending_[cut])) --cut;
    texts.push_back(utf8::sanitize(std::string_view(pending_).substr(start, cut - start)));
    start = cut;
  }
  size_t consumed = 0;
  for (size_t i = 0; i < n_tokens; ++i) consumed += held_[i];
  pending_.erase(0, std::min(consumed, pending_.size()));
  held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(n_tokens));
  return texts;
}

TextRelease::Released TextRelease::push(std::string_view piece) {
  pending_.append(piece);
  held_.push_back(piece.size());
  Released out;

  size_t stop_at = std::string::npos;
  for (const auto& stop : stops_) {
    const size_t p = pending_.find(stop);
    if (p < stop_at) {
      stop_at = p;
      out.stop = stop;
    }
  }
  if (stop_at != std::string::npos) {
    // Tokens that start at or after the stop are dropped; the one it starts in is cut.
    size_t n_tokens = 0, offset = 0;
    while (n_tokens < held_.size() && offset < stop_at) offset += held_[n_tokens++];
    out.texts = release(stop_at, n_tokens);
    pending_.clear();
    held_.clear();
    out.stopped = true;
    return out;
  }

  const size_t safe =
      std::min(pending_.size() - max_stop_prefix_suffix(), utf8::complete_prefix_length(pending_));
  size_t n_tokens = 0, offset = 0;
  while (n_tokens < held_.size() && offset + held_[n_tokens] <= safe) offset += held_[n_tokens++];
  if (n_tokens > 0) out.texts = release(offset, n_tokens);
  return out;
}

std::vector<std::string> TextRelease::flush() {
  if (held_.empty()) return {};
  return release(pending_.size(), held_.size());
}

}  // namespace rmm::engine
