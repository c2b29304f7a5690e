// What takes models out again: keep-alive expiry, workers that died (with the
// backoff before a crashed model reloads) and workers that hang. The reaper
// thread checks all of it a few times a second.
#include <algorithm>
#include <chrono>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "serving/model_host.hpp"
#include "worker/worker_client.hpp"

namespace rmm::serving {

namespace {

constexpr auto kReaperTick = std::chrono::milliseconds(200);

}  // namespace

int64_t parse_keep_alive_ms(const std::string& text, const std::string& what) {
  try {
    if (!text.empty() && text[0] == '-') {
      parse_duration_ms(text.substr(1), what);  // still a duration, just negative
      return kKeepForever;
    }
    return parse_duration_ms(text, what);
  } catch (const Error&) {
    // parse_duration_ms's own hint ("0 for no limit") is the opposite of what 0 means here.
    throw Error(
        ErrorKind::InvalidArgument,
        what + " '" + text +
            "' is not a duration: use 90s, 5m, 1h (units ms, s, m, h, d, w; a bare number is "
            "seconds); 0 unloads the model as soon as its requests are done, -1 keeps it loaded for ever");
  }
}

int64_t keep_alive_seconds_ms(double seconds) {
  if (seconds < 0) return kKeepForever;
  if (seconds > 1e12) throw Error(ErrorKind::InvalidArgument, "keep_alive is too large");
  return static_cast<int64_t>(seconds * 1000);
}

int64_t reload_delay_ms(int crashes) {
  if (crashes <= 1) return 0;
  return std::min<int64_t>(int64_t{1000} << std::min(crashes - 2, 8), 30'000);
}

bool HostedModel::lost() const { return worker && !worker->alive(); }

int64_t HostedModel::expires_at_ms() const {
  if (pinned || keep_alive_ms < 0) return kKeepForever;
  return last_use_ms + keep_alive_ms;
}

void ModelHost::reap() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    reaper_wake_.wait_for(lock, kReaperTick, [this] { return stopping_.load(); });
    if (stopping_) break;
    lock.unlock();
    kill_hung();
    collect_lost();  // logs the crash soon, not only when the model is next asked for
    lock.lock();
    const int64_t now = unix_ms();
    std::vector<std::shared_ptr<HostedModel>> expired;
    for (auto it = models_.begin(); it != models_.end();) {
      auto& m = *it->second;
      if (!m.idle()) {
        m.last_use_ms = now;  // the keep-alive counts from the end of the last request
        ++it;
        continue;
      }
      const int64_t at = m.expires_at_ms();
      if (at != kKeepForever && now >= at) {
        expired.push_back(it->second);
        it = models_.erase(it);
      } else {
        ++it;
      }
    }
    if (expired.empty()) continue;
    lock.unlock();
    for (const auto& m : expired) spdlog::info("unloading {}: keep_alive expired", m->id);
    expired.clear();  // freed here, without the lock
    lock.lock();
  }
}

void ModelHost::kill_hung() const {
  if (options_.worker_timeout_ms <= 0) return;
  for (const auto& m : loaded()) {
    if (!m->worker) continue;
    const int64_t silent = m->worker->silent_ms();
    if (silent < options_.worker_timeout_ms) continue;
    spdlog::error(
        "the worker serving {} (pid {}) has said nothing for {:.1f} s with requests waiting; killing it",
        m->id, m->worker->pid(), silent / 1000.0);
    m->worker->kill_hung("stopped responding for " + std::to_string(silent / 1000) + " s (--worker-timeout)");
  }
}

void ModelHost::collect_lost() const {
  std::vector<std::shared_ptr<HostedModel>> lost;  // released outside the lock
  {
    std::lock_guard lock(mutex_);
    const int64_t now = unix_ms();
    for (auto it = models_.begin(); it != models_.end();) {
      if (!it->second->lost()) {
        ++it;
        continue;
      }
      auto& c = crashes_[it->first];
      c.count = now - c.last_ms > kCrashWindowMs ? 1 : c.count + 1;
      c.last_ms = now;
      c.cause = it->second->worker->exit_cause();
      spdlog::warn("model {} is gone: its worker {} (crash {} in a row; next load {})", it->second->id,
                   c.cause, c.count,
                   reload_delay_ms(c.count) ? "in " + std::to_string(reload_delay_ms(c.count) / 1000) + " s"
                                            : std::string("on the next request"));
      lost.push_back(it->second);
      it = models_.erase(it);
    }
  }
}

void ModelHost::check_crash_backoff_locked(const std::filesystem::path& path, const std::string& id) const {
  auto it = crashes_.find(path);
  if (it == crashes_.end()) return;
  const int64_t wait = it->second.last_ms + reload_delay_ms(it->second.count) - unix_ms();
  if (wait <= 0) return;
  const int seconds = static_cast<int>((wait + 999) / 1000);
  throw Error(ErrorKind::Unavailable,
              "model '" + id + "' crashed " + std::to_string(it->second.count) +
                  " times within 5 minutes (last: its worker " + it->second.cause + "); it reloads in " +
                  std::to_string(seconds) + " s",
              seconds);
}

}  // namespace rmm::serving
