#pragma once
// Computes the SHA-256 of registered model files on one background thread
// (a large model takes seconds to minutes) and stores it with the model.
// A file that changed since it was indexed is skipped; the next rescan
// queues it again. Destroying the hasher stops a hash in progress.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "store/store.hpp"

namespace rmm::models {

class FileHasher {
 public:
  explicit FileHasher(store::ModelStore& store);
  ~FileHasher();
  FileHasher(const FileHasher&) = delete;
  FileHasher& operator=(const FileHasher&) = delete;

  // Queues `model` (its parts from `parts`) unless it is queued already.
  void enqueue(const store::ModelRecord& model, std::vector<std::filesystem::path> parts);
  // Blocks until the queue is empty and no hash is running.
  void wait_idle();
  size_t pending();

 private:
  struct Job {
    int64_t id = 0;
    int64_t size = 0;
    int64_t mtime = 0;
    std::vector<std::filesystem::path> parts;
  };
  void loop();
  void hash(const Job& job);

  store::ModelStore& store_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  int64_t running_ = 0;  // id of the model being hashed, 0 when idle
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace rmm::models
