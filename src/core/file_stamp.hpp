#pragma once
// A file as it is now, for noticing that it changed: its size and
// modification time. The registry and its background hasher use it.
#include <cstdint>
#include <filesystem>
#include <optional>

namespace rmm {

struct FileStamp {
  int64_t size = 0;
  int64_t mtime = 0;  // ns since the unix epoch
  bool operator==(const FileStamp&) const = default;
};

// nullopt when the path is not a readable regular file (symlinks are followed).
std::optional<FileStamp> stamp_of(const std::filesystem::path& file);

}  // namespace rmm
