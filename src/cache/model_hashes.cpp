#include "cache/model_hashes.hpp"

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/sha256.hpp"

namespace rmm::cache {

ModelHashes::~ModelHashes() { stopping_ = true; }

void ModelHashes::prepare(const std::filesystem::path& path) { lookup(path, true); }

std::optional<std::string> ModelHashes::get(const std::filesystem::path& path) { return lookup(path, true); }

std::optional<std::string> ModelHashes::lookup(const std::filesystem::path& path, bool start) {
  const auto stamp = stamp_of(path);
  if (!stamp) return std::nullopt;
  const std::string key = path.string();
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.stamp == *stamp) {
      return it->second.hash;  // known, or being hashed, or failed (not retried for the same file)
    }
    if (!start) return std::nullopt;
    entries_[key] = Entry{*stamp, std::nullopt, false};
  }
  jobs_.post([this, path, key, stamp = *stamp] {
    std::optional<std::string> hash;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      hash = sha256_file_hex(path, [this] { return !stopping_.load(); });
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Cancelled)
        spdlog::warn("response cache: {}; the cache stays off for it", e.what());
    }
    {
      std::lock_guard lock(mutex_);
      auto it = entries_.find(key);
      if (it == entries_.end() || !(it->second.stamp == stamp)) return;  // the file changed meanwhile
      // A file modified while it was read is hashed again on the next request.
      const auto now = stamp_of(path);
      if (!now || !(*now == stamp)) {
        entries_.erase(it);
        return;
      }
      it->second.hash = hash;
      it->second.failed = !hash;
    }
    // Logged once the hash is in use (tests wait for this line).
    if (hash) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      spdlog::info("response cache: {} hashed in {:.2f} s ({})", path.filename().string(), s,
                   hash->substr(0, 12));
    }
  });
  return std::nullopt;
}

}  // namespace rmm::cache
