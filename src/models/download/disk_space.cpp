#include "models/download/disk_space.hpp"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.hpp"
#include "core/units.hpp"

namespace rmm::download {
namespace {
// Room left for the sidecar, the manifest and file system bookkeeping.
constexpr uint64_t kMargin = 1 << 20;
}  // namespace

uint64_t free_bytes(const std::filesystem::path& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0)
    throw Error(ErrorKind::Internal,
                "cannot tell the free space in " + dir.string() + ": " + std::strerror(errno));
  return static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize);
}

void ensure_free_space(const std::filesystem::path& dir, uint64_t needed) {
  if (needed == 0) return;
  const uint64_t free = free_bytes(dir);
  if (free < needed + kMargin)
    throw Error(ErrorKind::InvalidArgument, "not enough free disk space in " + dir.string() +
                                                ": the download needs " + format_bytes(needed) + ", " +
                                                format_bytes(free) + " are free");
}

}  // namespace rmm::download
