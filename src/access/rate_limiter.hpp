#pragma once
// Requests and tokens per minute, and generations at once, per client (a key,
// or an address when the server has no keys). Token buckets: a bucket holds
// up to a minute's allowance and refills continuously, so bursts up to the
// limit pass and a steady rate above it does not. Tokens are known only when
// a generation ends, so they are charged then; a request is refused while
// its bucket is empty (the debt of a long answer delays the next ones).
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "access/principal.hpp"

namespace rmm::access {

using Headers = std::vector<std::pair<std::string, std::string>>;

// How long until a bucket is full again, as OpenAI writes it: "17ms", "1.5s", "6m0s".
std::string format_reset(std::chrono::milliseconds ms);

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Decision {
    bool allowed = true;
    std::string why;        // when refused: which limit, in words
    int retry_after_s = 0;  // when refused
    Headers headers;        // x-ratelimit-* for every response (empty without limits)
  };

  // Takes one request from the principal's bucket (when it has a limit) and
  // checks its token bucket. `stream`: the request starts a generation, which
  // also counts against max_streams until end_stream().
  Decision admit(const Principal& p, bool stream, Clock::time_point now = Clock::now());
  void end_stream(const Principal& p);
  // Charges tokens used (prompt + generated) once a generation ends.
  void charge_tokens(const Principal& p, int64_t tokens, Clock::time_point now = Clock::now());

  size_t clients() const;  // buckets held (bounded: full idle ones are dropped)

 private:
  struct Bucket {
    double level = 0;  // what is left; may go below 0 for tokens (a long answer's debt)
    Clock::time_point at{};
    bool fresh = true;
  };
  struct Client {
    Bucket requests, tokens;
    int64_t streams = 0;
  };
  static void refill(Bucket& b, int64_t per_minute, Clock::time_point now);
  static std::chrono::milliseconds until(const Bucket& b, double level, int64_t per_minute);
  void prune(Clock::time_point now);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Client> clients_;
  size_t admitted_ = 0;
};

}  // namespace rmm::access
