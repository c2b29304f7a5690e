#pragma once
// Token events from the engine thread to the UI in batches, at most one every
// kInterval: a queued signal per token wakes the UI thread (and the document
// relayouts) hundreds of times a second, and on a machine with few cores that
// takes CPU time from the engine's own threads (measured: bench/README.md,
// "Desktop app"). The first token goes at once; the rest of an answer always
// arrives, since the end of a generation takes what is left.
#include <QMetaType>
#include <QVector>
#include <chrono>
#include <mutex>

#include "engine/generation.hpp"

namespace rmm::desktop {

using TokenBatch = QVector<engine::TokenEvent>;

class TokenBatcher {
 public:
  static constexpr std::chrono::milliseconds kInterval{16};  // one frame at 60 Hz

  // Adds `ev`; true (with the batch in `out`) when it is time to send.
  bool add(const engine::TokenEvent& ev, TokenBatch& out) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    pending_.push_back(ev);
    if (now - last_sent_ < kInterval) return false;
    last_sent_ = now;
    out.swap(pending_);
    pending_.clear();
    return true;
  }
  // What is left (at the end of the answer).
  TokenBatch take() {
    std::lock_guard lock(mutex_);
    TokenBatch out;
    out.swap(pending_);
    return out;
  }

 private:
  std::mutex mutex_;
  TokenBatch pending_;
  std::chrono::steady_clock::time_point last_sent_{};
};

}  // namespace rmm::desktop

Q_DECLARE_METATYPE(rmm::desktop::TokenBatch)
