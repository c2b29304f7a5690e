#pragma once
// The server's view of the API keys in the store: a snapshot in memory, so
// that checking a key costs a hash and a scan, never a database call on the
// I/O thread. A background thread re-reads the store every `refresh` (keys
// created or revoked by `rmm keys` in another process take effect within it)
// and writes last-used times back.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "access/principal.hpp"
#include "store/store.hpp"

namespace rmm::access {

class KeyRing {
 public:
  // `defaults` fill the limits a key leaves at -1. Reads the keys once now
  // (throws what the store throws) and starts the refresh thread.
  KeyRing(store::KeyStore& store, Limits defaults,
          std::chrono::milliseconds refresh = std::chrono::milliseconds(2000));
  ~KeyRing();
  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;

  // Whether any key is active now: then every request needs one.
  bool enabled() const;
  // The principal for a presented key; nullopt for an unknown, revoked or
  // expired one. Every active key's hash is compared, in constant time each.
  std::optional<Principal> authenticate(std::string_view key);
  // Re-reads the store now (after a key was created or revoked here).
  void reload();

 private:
  struct Entry {
    store::ApiKeyRecord record;
    Principal principal;
  };
  void run();
  void flush_last_used();

  store::KeyStore& store_;
  Limits defaults_;
  std::chrono::milliseconds refresh_;
  mutable std::mutex mutex_;
  std::shared_ptr<const std::vector<Entry>> entries_;
  std::unordered_map<int64_t, int64_t> last_used_;  // key id → unix ms, not yet written
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rmm::access
