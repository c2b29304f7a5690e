#include "models/file_hasher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

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

bool FileHasher::same_job(const Job& a, const Job& b) const {
  if (a.id != 0 || b.id != 0) return a.id == b.id;
  return a.parts.front() == b.parts.front() && a.size == b.size && a.mtime == b.mtime;
}

void FileHasher::enqueue(const store::ModelRecord& model, std::vector<std::filesystem::path> parts,
                         bool first) {
  Job job{model.id, model.size, model.mtime, std::move(parts)};
  {
    std::lock_guard lock(mutex_);
    if (running_ && same_job(*running_, job)) return;
    const auto queued =
        std::find_if(jobs_.begin(), jobs_.end(), [&](const Job& j) { return same_job(j, job); });
    if (queued != jobs_.end()) {
      if (!first || queued == jobs_.begin()) return;
      job = std::move(*queued);
      jobs_.erase(queued);
    }
    if (first) {
      jobs_.push_front(std::move(job));
    } else {
      jobs_.push_back(std::move(job));
    }
  }
  cv_.notify_all();
}

std::optional<std::string> FileHasher::file_sha256(const std::filesystem::path& path,
                                                   const FileStamp& stamp) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = files_.find(path); it != files_.end() && it->second.first == stamp)
      return it->second.second;
    if (auto it = failed_.find(path); it != failed_.end() && it->second == stamp) return std::nullopt;
  }
  store::ModelRecord file;  // id 0: not registered
  file.size = stamp.size;
  file.mtime = stamp.mtime;
  enqueue(file, {path}, true);
  return std::nullopt;
}

bool FileHasher::failed(const std::filesystem::path& path, const FileStamp& stamp) {
  std::lock_guard lock(mutex_);
  const auto it = failed_.find(path);
  return it != failed_.end() && it->second == stamp;
}

void FileHasher::wait_idle() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return stopping_ || (jobs_.empty() && !running_); });
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
    running_ = std::move(jobs_.front());
    jobs_.pop_front();
    const Job job = *running_;
    lock.unlock();
    hash(job);
    lock.lock();
    running_.reset();
    cv_.notify_all();
  }
}

void FileHasher::hash(const Job& job) {
  const FileStamp expected{job.size, job.mtime};
  const auto& first = job.parts.front();
  // A file replaced since it was indexed gets hashed after the next rescan.
  if (stamp_of_parts(job.parts) != expected) return;
  const auto t0 = std::chrono::steady_clock::now();
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
    if (job.id != 0) {
      store_.set_model_sha256(job.id, job.size, job.mtime, joined);
    } else {
      std::lock_guard lock(mutex_);
      files_[first] = {expected, joined};
    }
    // Logged once the hash is stored (the response cache uses it from then on; tests wait for this line).
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    spdlog::info("sha256: {} hashed in {:.2f} s ({})", first.filename().string(), s, joined.substr(0, 12));
    return;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Cancelled) return;
    spdlog::warn("hashing {}: {}", first.string(), e.what());
  } catch (const std::exception& e) {
    spdlog::warn("hashing {}: {}", first.string(), e.what());
  }
  std::lock_guard lock(mutex_);
  failed_[first] = expected;
}

}  // namespace rmm::models
