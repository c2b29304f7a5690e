#include "access/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace rmm::access {

std::string format_reset(std::chrono::milliseconds ms) {
  const int64_t v = std::max<int64_t>(0, ms.count());
  if (v < 1000) return std::to_string(v) + "ms";
  if (v < 60000) {
    std::string s = std::to_string(v / 1000);
    if (v % 1000) {
      char frac[8];
      std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(v % 1000));
      std::string f(frac);
      while (f.back() == '0') f.pop_back();
      s += f;
    }
    return s + "s";
  }
  return std::to_string(v / 60000) + "m" + std::to_string((v % 60000) / 1000) + "s";
}

void RateLimiter::refill(Bucket& b, int64_t per_minute, Clock::time_point now) {
  if (b.fresh) {
    b.level = static_cast<double>(per_minute);
    b.at = now;
    b.fresh = false;
    return;
  }
  const double seconds = std::chrono::duration<double>(now - b.at).count();
  b.level =
      std::min(static_cast<double>(per_minute), b.level + seconds * static_cast<double>(per_minute) / 60.0);
  b.at = now;
}

std::chrono::milliseconds RateLimiter::until(const Bucket& b, double level, int64_t per_minute) {
  if (per_minute <= 0 || b.level >= level) return std::chrono::milliseconds(0);
  const double ms = (level - b.level) * 60000.0 / static_cast<double>(per_minute);
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(ms)));
}

RateLimiter::Decision RateLimiter::admit(const Principal& p, bool stream, Clock::time_point now) {
  const Limits& l = p.limits;
  Decision d;
  if (l.requests_per_minute <= 0 && l.tokens_per_minute <= 0 && l.max_streams <= 0) return d;
  std::lock_guard lock(mutex_);
  if (++admitted_ % 1024 == 0) prune(now);
  Client& c = clients_[p.bucket];
  std::chrono::milliseconds wait{0};
  if (l.requests_per_minute > 0) {
    refill(c.requests, l.requests_per_minute, now);
    if (c.requests.level < 1.0) {
      d.allowed = false;
      d.why = "more than " + std::to_string(l.requests_per_minute) + " requests per minute";
      wait = std::max(wait, until(c.requests, 1.0, l.requests_per_minute));
    }
  }
  if (l.tokens_per_minute > 0) {
    refill(c.tokens, l.tokens_per_minute, now);
    if (c.tokens.level <= 0.0) {
      d.why = d.allowed ? "" : d.why + " and ";
      d.why += "more than " + std::to_string(l.tokens_per_minute) + " tokens per minute";
      d.allowed = false;
      wait = std::max(wait, until(c.tokens, 1.0, l.tokens_per_minute));
    }
  }
  if (d.allowed && stream && l.max_streams > 0 && c.streams >= l.max_streams) {
    d.allowed = false;
    d.why = "more than " + std::to_string(l.max_streams) + " generations at once";
    wait = std::chrono::milliseconds(1000);
  }
  if (d.allowed) {
    if (l.requests_per_minute > 0) c.requests.level -= 1.0;
    if (stream && l.max_streams > 0) ++c.streams;
  }
  // OpenAI's headers: the limit, what is left, and when the bucket is full again.
  auto describe = [&d](const char* what, const Bucket& b, int64_t per_minute) {
    if (per_minute <= 0) return;
    const std::string suffix = what;
    d.headers.emplace_back("x-ratelimit-limit-" + suffix, std::to_string(per_minute));
    d.headers.emplace_back("x-ratelimit-remaining-" + suffix,
                           std::to_string(static_cast<int64_t>(std::max(0.0, std::floor(b.level)))));
    d.headers.emplace_back("x-ratelimit-reset-" + suffix,
                           format_reset(until(b, static_cast<double>(per_minute), per_minute)));
  };
  describe("requests", c.requests, l.requests_per_minute);
  describe("tokens", c.tokens, l.tokens_per_minute);
  if (!d.allowed) {
    d.retry_after_s = static_cast<int>(std::max<int64_t>(1, (wait.count() + 999) / 1000));
  }
  return d;
}

void RateLimiter::end_stream(const Principal& p) {
  if (p.limits.max_streams <= 0) return;
  std::lock_guard lock(mutex_);
  auto it = clients_.find(p.bucket);
  if (it != clients_.end() && it->second.streams > 0) --it->second.streams;
}

void RateLimiter::charge_tokens(const Principal& p, int64_t tokens, Clock::time_point now) {
  if (p.limits.tokens_per_minute <= 0 || tokens <= 0) return;
  std::lock_guard lock(mutex_);
  Client& c = clients_[p.bucket];
  refill(c.tokens, p.limits.tokens_per_minute, now);
  c.tokens.level -= static_cast<double>(tokens);
}

size_t RateLimiter::clients() const {
  std::lock_guard lock(mutex_);
  return clients_.size();
}

void RateLimiter::prune(Clock::time_point now) {
  // A client idle for over a minute has full buckets again: forgetting it changes nothing.
  std::erase_if(clients_, [now](const auto& kv) {
    const Client& c = kv.second;
    return c.streams == 0 && now - std::max(c.requests.at, c.tokens.at) > std::chrono::minutes(1);
  });
}

}  // namespace rmm::access
