#pragma once
// Finds model files under the models dirs: .gguf files, and safetensors /
// PyTorch weights (listed as needing conversion). Split files
// (name-00001-of-00003.gguf) come back as one model with their parts in
// order. Hidden files and dirs are skipped, as are partial downloads (their
// names do not end in a model extension).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/file_stamp.hpp"

namespace rmm::models {

struct FoundModel {
  std::vector<std::filesystem::path> parts;  // absolute; one for a single file; present parts in order
  std::string split_group;                   // "" for a single file, else DIR/NAME-of-NNNNN.EXT
  uint32_t split_count = 0;                  // parts the names announce (0 for a single file)
  std::vector<uint32_t> missing_parts;       // 1-based part numbers not found
  FileStamp stamp;                           // total size, newest mtime
};

// The parts' stamps combined; nullopt when any part is missing.
std::optional<FileStamp> stamp_of_parts(const std::vector<std::filesystem::path>& parts);

// Every model under `dirs` (recursively, at most 6 levels and 200,000 entries
// per dir), sorted by the path of the first part. A dir that does not exist is
// skipped.
std::vector<FoundModel> find_models(const std::vector<std::filesystem::path>& dirs);

// "name" for "name-00001-of-00003.gguf", the stem otherwise.
std::string stem_without_split(const std::filesystem::path& file);

// Whether `file` lies inside `dir` (both made absolute, compared lexically).
bool is_inside(const std::filesystem::path& file, const std::filesystem::path& dir);

}  // namespace rmm::models
