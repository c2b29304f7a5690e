#pragma once
// SHA-256 of model files, computed on a background thread (a large model
// takes seconds) and remembered by path, size and modification time, so a
// file replaced in place is hashed again.
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/file_stamp.hpp"
#include "core/serial_queue.hpp"

namespace rmm::cache {

class ModelHashes {
 public:
  ModelHashes() = default;
  ~ModelHashes();  // stops a hash in progress

  // Starts hashing `path` unless its hash is known or under way.
  void prepare(const std::filesystem::path& path);
  // The hash when known for the file as it is now; otherwise starts hashing and returns nullopt.
  std::optional<std::string> get(const std::filesystem::path& path);
  // Blocks until the jobs queued so far are done (tests).
  void wait_idle() { jobs_.drain(); }

 private:
  struct Entry {
    FileStamp stamp;
    std::optional<std::string> hash;  // nullopt while hashing (or after it failed)
    bool failed = false;
  };
  std::optional<std::string> lookup(const std::filesystem::path& path, bool start);

  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::atomic<bool> stopping_{false};
  SerialQueue jobs_;  // last: destroyed (joined) first, while the rest is still valid
};

}  // namespace rmm::cache
