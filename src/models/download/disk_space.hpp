#pragma once
// Free space checks before a download starts.
#include <cstdint>
#include <filesystem>
#include <string>

namespace rmm::download {

// Bytes an unprivileged writer may still use on the file system holding
// `dir` (statvfs f_bavail). Throws rmm::Error(Internal) when it cannot tell.
uint64_t free_bytes(const std::filesystem::path& dir);

// Throws rmm::Error(InvalidArgument) naming the directory, what is needed and
// what is free when `needed` bytes (plus a small margin) do not fit.
void ensure_free_space(const std::filesystem::path& dir, uint64_t needed);

}  // namespace rmm::download
