#pragma once
// Decides when generated text may leave the engine: it holds back bytes that
// could still become a stop string or that end inside a UTF-8 character, and
// cuts the text at a stop string so that no part of it is ever emitted.
#include <string>
#include <string_view>
#include <vector>

namespace rmm::engine {

class TextRelease {
 public:
  explicit TextRelease(std::vector<std::string> stops);

  // Adds one token's bytes. Returns the text each held token releases now, in
  // order, oldest first (tokens still held are not in the list).
  struct Released {
    std::vector<std::string> texts;  // one per released token
    bool stopped = false;            // a stop string matched; the stream ends here
    std::string stop;
  };
  Released push(std::string_view piece);
  // End of stream: releases everything still held (an unfinished UTF-8 tail becomes U+FFFD).
  std::vector<std::string> flush();

  size_t held_tokens() const { return held_.size(); }

 private:
  size_t max_stop_prefix_suffix() const;
  std::vector<std::string> release(size_t n_bytes, size_t n_tokens);

  std::vector<std::string> stops_;
  std::string pending_;       // bytes of held tokens
  std::vector<size_t> held_;  // byte length of each held token, in order
};

}  // namespace rmm::engine
