#include "access/audit_log.hpp"

#include <vector>

#include "core/clock.hpp"
#include "core/log.hpp"

namespace rmm::access {

AuditLog::AuditLog(store::AuditStore& store, AuditOptions options) : store_(store), options_(options) {
  thread_ = std::thread([this] { run(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void AuditLog::record(store::AuditEntry entry) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= options_.max_queue) {
      if (dropped_++ % 1000 == 0) spdlog::warn("audit log: the database is behind; entries dropped");
      return;
    }
    queue_.push_back(std::move(entry));
  }
  wake_.notify_one();
}

void AuditLog::flush() {
  std::unique_lock lock(mutex_);
  wake_.notify_one();
  idle_.wait(lock, [this] { return (queue_.empty() && !writing_) || stopping_; });
}

int64_t AuditLog::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

int64_t AuditLog::written() const {
  std::lock_guard lock(mutex_);
  return written_;
}

void AuditLog::run() {
  auto next_prune = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_ || !queue_.empty(); });
    if (!queue_.empty()) {
      // One transaction per batch: a burst of requests costs one commit.
      std::vector<store::AuditEntry> batch(std::make_move_iterator(queue_.begin()),
                                           std::make_move_iterator(queue_.end()));
      queue_.clear();
      writing_ = true;
      lock.unlock();
      try {
        store_.append_audit(batch);
      } catch (const std::exception& e) {
        spdlog::warn("audit log: {} entries not written: {}", batch.size(), e.what());
      }
      lock.lock();
      writing_ = false;
      written_ += static_cast<int64_t>(batch.size());
    }
    if (options_.retention_ms > 0 && std::chrono::steady_clock::now() >= next_prune) {
      next_prune = std::chrono::steady_clock::now() + options_.prune_every;
      lock.unlock();
      try {
        const int64_t n = store_.prune_audit(unix_ms() - options_.retention_ms);
        if (n > 0) spdlog::info("audit log: {} entries older than the retention removed", n);
      } catch (const std::exception& e) {
        spdlog::warn("audit log: pruning failed: {}", e.what());
      }
      lock.lock();
    }
    if (queue_.empty()) idle_.notify_all();
    if (stopping_ && queue_.empty()) break;
  }
}

}  // namespace rmm::access
