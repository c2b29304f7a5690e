#pragma once
// The audit log: every admin action and every generation request, written to
// the store by a thread of its own. record() never blocks a request: entries
// wait in a bounded queue and are written in batches; when the database is
// too slow for the queue, new entries are dropped and counted (dropped()).
// Entries older than the retention are pruned once an hour.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "store/store.hpp"

namespace rmm::access {

struct AuditOptions {
  size_t max_queue = 10000;
  int64_t retention_ms = 30LL * 24 * 3600 * 1000;  // 0: keep for ever
  std::chrono::milliseconds prune_every = std::chrono::hours(1);
};

class AuditLog {
 public:
  AuditLog(store::AuditStore& store, AuditOptions options = {});
  ~AuditLog();  // writes what is queued
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void record(store::AuditEntry entry);  // any thread; never waits for the database
  void flush();                          // waits until what is queued now is written (tests, rmm audit)
  int64_t dropped() const;
  int64_t written() const;

 private:
  void run();

  store::AuditStore& store_;
  AuditOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<store::AuditEntry> queue_;
  bool writing_ = false;
  bool stopping_ = false;
  int64_t dropped_ = 0, written_ = 0;
  std::thread thread_;
};

}  // namespace rmm::access
