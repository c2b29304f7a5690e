#pragma once
// Computes the SHA-256 of model files on one background thread (a large
// model takes seconds to minutes): registered models, whose hash is stored
// with the model, and files outside the models dirs that a server loaded by
// path, whose hash is kept in memory. It is the one hasher: the response
// cache gets its model hashes from here too (Registry::model_sha256).
// A file that changed since it was queued is skipped; the next rescan (or
// request) queues it again. Destroying the hasher stops a hash in progress.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/file_stamp.hpp"
#include "store/store.hpp"

namespace rmm::models {

class FileHasher {
 public:
  explicit FileHasher(store::ModelStore& store);
  ~FileHasher();
  FileHasher(const FileHasher&) = delete;
  FileHasher& operator=(const FileHasher&) = delete;

  // Queues `model` (its parts from `parts`) unless it is queued or being hashed already;
  // `first`: at the front of the queue (a model someone is waiting for), moved there if queued.
  void enqueue(const store::ModelRecord& model, std::vector<std::filesystem::path> parts, bool first = false);
  // The hash of a file that is not registered, when known for the file as `stamp` says it is now;
  // otherwise nullopt, and the file is queued first unless it is queued, being hashed, or failed as it is.
  std::optional<std::string> file_sha256(const std::filesystem::path& path, const FileStamp& stamp);
  // Whether hashing the model whose first part is `path` failed for this version of it (an
  // I/O error): not worth retrying on every request.
  bool failed(const std::filesystem::path& path, const FileStamp& stamp);
  // Blocks until the queue is empty and no hash is running.
  void wait_idle();
  size_t pending();

 private:
  struct Job {
    int64_t id = 0;  // 0: a file that is not registered (its hash goes to files_)
    int64_t size = 0;
    int64_t mtime = 0;
    std::vector<std::filesystem::path> parts;
  };
  void loop();
  void hash(const Job& job);
  bool same_job(const Job& a, const Job& b) const;

  store::ModelStore& store_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::optional<Job> running_;  // the job being hashed
  // Unregistered files by path: the stamp hashed and the hash.
  std::map<std::filesystem::path, std::pair<FileStamp, std::string>> files_;
  std::map<std::filesystem::path, FileStamp> failed_;  // by first part, the version that failed
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace rmm::models
