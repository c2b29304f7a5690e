// The audit log's queue: a slow database never blocks a request, overflow is
// counted, and what was queued is written on flush and on shutdown.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "access/audit_log.hpp"

namespace rmm::access {
namespace {

using namespace std::chrono_literals;

// An audit table in memory whose writes can be held up, like a stalled database.
class SlowAuditStore : public store::AuditStore {
 public:
  void append_audit(const std::vector<store::AuditEntry>& entries) override {
    std::unique_lock lock(mutex_);
    ++batches_;
    released_.wait(lock, [this] { return open_; });
    rows_.insert(rows_.end(), entries.begin(), entries.end());
  }
  std::vector<store::AuditEntry> list_audit(const store::AuditQuery&) override {
    std::lock_guard lock(mutex_);
    return rows_;
  }
  int64_t prune_audit(int64_t before_ms) override {
    std::lock_guard lock(mutex_);
    const auto n = std::erase_if(rows_, [&](const auto& e) { return e.time < before_ms; });
    pruned_ += static_cast<int64_t>(n);
    return static_cast<int64_t>(n);
  }
  void hold() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    released_.notify_all();
  }
  size_t rows() {
    std::lock_guard lock(mutex_);
    return rows_.size();
  }
  int batches() {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  int64_t pruned() {
    std::lock_guard lock(mutex_);
    return pruned_;
  }
  void add(store::AuditEntry e) {
    std::lock_guard lock(mutex_);
    rows_.push_back(std::move(e));
  }

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  bool open_ = true;
  int batches_ = 0;
  int64_t pruned_ = 0;
  std::vector<store::AuditEntry> rows_;
};

store::AuditEntry entry(int64_t time) {
  store::AuditEntry e;
  e.time = time;
  e.route = "/v1/completions";
  return e;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(AuditLog, ASlowDatabaseNeverBlocksARequestAndOverflowIsCounted) {
  SlowAuditStore db;
  db.hold();
  AuditLog log(db, {100, 0, std::chrono::hours(1)});
  log.record(entry(1));
  // Wait until the writer holds that first entry inside the stalled write.
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (db.batches() == 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(db.batches(), 1);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) log.record(entry(2 + i));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms) << "record() must not wait for the database";
  EXPECT_EQ(log.dropped(), 900) << "100 fit in the queue while the database stalls";
  db.release();
  log.flush();
  EXPECT_EQ(db.rows(), 101u);
  EXPECT_EQ(log.written(), 101);
}

TEST(AuditLog, EntriesAreWrittenInBatchesAndOnShutdown) {
  SlowAuditStore db;
  {
    AuditLog log(db, {10000, 0, std::chrono::hours(1)});
    for (int i = 0; i < 500; ++i) log.record(entry(i));
  }
  EXPECT_EQ(db.rows(), 500u);
  EXPECT_LT(db.batches(), 500) << "one transaction per batch, not per entry";
}

TEST(AuditLog, OldEntriesArePrunedByRetention) {
  SlowAuditStore db;
  const int64_t now = now_ms();
  db.add(entry(now - 3 * 24 * 3600 * 1000LL));  // three days old
  db.add(entry(now - 1000));
  AuditLog log(db, {100, 2LL * 24 * 3600 * 1000, std::chrono::hours(1)});  // keep two days
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (db.pruned() == 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(db.pruned(), 1);
  EXPECT_EQ(db.rows(), 1u);
}

}  // namespace
}  // namespace rmm::access
