#include "models/file_hasher.hpp"

#include <spdlog/spdlog.h>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "models/model_files.hpp"

namespace rmm::models {

FileHasher::FileHasher(store::ModelStore& store) : store_(store), thread_([this] { loop(); }) {}

FileHasher::~FileHasher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  cv_.notify_all();
  thread_.join();
}

void FileHasher::enqueue(const store::ModelRecord& model, std::vector<std::filesystem::path> parts) {
  {
    std::lock_guard lock(mutex_);
    if (running_ == model.id) return;
    for (const Job& j : jobs_)
      if (j.id == model.id) return;
    jobs_.push_back({model.id, model.size, model.mtime, std::move(parts)});
  }
  cv_.notify_all();
}

void FileHasher::wait_idle() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return stopping_ || (jobs_.empty() && running_ == 0); });
}

size_t FileHasher::pending() {
  std::lock_guard lock(mutex_);
  return jobs_.size() + (running_ ? 1 : 0);
}

void FileHasher::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    running_ = job.id;
    lock.unlock();
    hash(job);
    lock.lock();
    running_ = 0;
    cv_.notify_all();
  }
}

void FileHasher::hash(const Job& job) {
  const FileStamp expected{job.size, job.mtime};
  // A file replaced since it was indexed gets hashed after the next rescan.
  if (stamp_of_parts(job.parts) != expected) return;
  try {
    std::string joined;
    for (const auto& part : job.parts) {
      const std::string hex = rmm::sha256_file_hex(part, [this] {
        std::lock_guard lock(mutex_);
        return !stopping_;
      });
      joined += (joined.empty() ? "" : ",") + hex;
    }
    if (stamp_of_parts(job.parts) != expected) return;  // changed while being read
    store_.set_model_sha256(job.id, job.size, job.mtime, joined);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Cancelled)
      spdlog::warn("hashing {}: {}", job.parts.front().string(), e.what());
  } catch (const std::exception& e) {
    spdlog::warn("hashing {}: {}", job.parts.front().string(), e.what());
  }
}

}  // namespace rmm::models
