#include "access/key_ring.hpp"

#include "core/clock.hpp"
#include "core/log.hpp"

namespace rmm::access {

namespace {

int64_t pick(int64_t own, int64_t fallback) { return own < 0 ? fallback : own; }

}  // namespace

bool Principal::may_use_model(const std::vector<std::string>& names) const {
  if (models.empty()) return true;
  for (const auto& p : models) {
    for (const auto& n : names) {
      if (!n.empty() && glob_match(p, n)) return true;
    }
  }
  return false;
}

KeyRing::KeyRing(store::KeyStore& store, Limits defaults, std::chrono::milliseconds refresh)
    : store_(store), defaults_(defaults), refresh_(refresh) {
  reload();
  thread_ = std::thread([this] { run(); });
}

KeyRing::~KeyRing() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  try {
    flush_last_used();
  } catch (const std::exception& e) {
    spdlog::warn("API keys: last-used times not saved: {}", e.what());
  }
}

void KeyRing::reload() {
  auto next = std::make_shared<std::vector<Entry>>();
  for (auto& r : store_.list_api_keys()) {
    if (r.revoked_at != 0) continue;
    Entry e;
    e.principal.key_id = r.id;
    e.principal.key_name = r.name;
    e.principal.scope = parse_scope(r.scope).value_or(Scope::Read);
    e.principal.models = r.models;
    e.principal.limits = {pick(r.requests_per_minute, defaults_.requests_per_minute),
                          pick(r.tokens_per_minute, defaults_.tokens_per_minute),
                          pick(r.max_streams, defaults_.max_streams)};
    e.principal.bucket = "key:" + std::to_string(r.id);
    e.record = std::move(r);
    next->push_back(std::move(e));
  }
  std::lock_guard lock(mutex_);
  entries_ = std::move(next);
}

bool KeyRing::enabled() const {
  std::lock_guard lock(mutex_);
  return entries_ && !entries_->empty();
}

std::optional<Principal> KeyRing::authenticate(std::string_view key) {
  std::shared_ptr<const std::vector<Entry>> entries;
  {
    std::lock_guard lock(mutex_);
    entries = entries_;
  }
  if (!entries) return std::nullopt;
  const std::string hash = hash_key(key);
  const Entry* found = nullptr;
  for (const auto& e : *entries) {
    if (constant_time_equal(e.record.hash, hash)) found = &e;  // no early exit: every key costs the same
  }
  if (!found) return std::nullopt;
  const int64_t now = unix_ms();
  if (found->record.expires_at != 0 && found->record.expires_at <= now) return std::nullopt;
  std::lock_guard lock(mutex_);
  last_used_[found->record.id] = now;
  return found->principal;
}

void KeyRing::flush_last_used() {
  std::vector<std::pair<int64_t, int64_t>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.assign(last_used_.begin(), last_used_.end());
    last_used_.clear();
  }
  if (!batch.empty()) store_.touch_api_keys(batch);
}

void KeyRing::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, refresh_, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    try {
      flush_last_used();
      reload();
    } catch (const std::exception& e) {
      // The last good snapshot stays in force: a database hiccup must not open or close the server.
      spdlog::warn("API keys: refresh failed: {}", e.what());
    }
    lock.lock();
  }
}

}  // namespace rmm::access
