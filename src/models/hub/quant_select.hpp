#pragma once
// Picks the files of one quantization from a repo's GGUF files: a single
// file or a split set (NAME-00001-of-00003.gguf ...), plus the repo's
// multimodal projector (mmproj*.gguf) when it has one.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rmm::hub {

inline constexpr const char* kDefaultQuant = "Q4_K_M";

struct RepoFile {
  std::string path;     // inside the repo
  uint64_t size = 0;    // bytes of the real file (the LFS object's size for LFS files)
  std::string sha256;   // the LFS object id; empty for files stored in git itself
  std::string git_oid;  // the git blob id
};

// The quantization named in a file name ("Q4_K_M", "IQ4_XS", "Q8_0", "F16",
// "BF16" ...), upper-cased; nullopt when it names none.
std::optional<std::string> parse_quant(const std::string& file_name);

// "-00002-of-00005.gguf" at the end of a name: {2, 5}; nullopt otherwise.
struct SplitPart {
  int index = 0, count = 0;
};
std::optional<SplitPart> parse_split(const std::string& file_name);

bool is_mmproj(const std::string& path);

struct Selection {
  std::string quant;               // what was picked ("Q4_K_M"; empty when the only file names none)
  std::vector<RepoFile> model;     // one file, or a split set in part order
  std::optional<RepoFile> mmproj;  // the projector, when the repo has one
};

// `wanted`: a quantization (case-insensitive), an exact .gguf file name or
// path in the repo, or empty for the default (Q4_K_M; a repo with a single
// model file gets that file). Throws rmm::Error(NotFound) listing what the
// repo has when nothing matches, and BadFile when a split set is incomplete.
Selection select_files(const std::string& repo, const std::vector<RepoFile>& files,
                       const std::string& wanted);

}  // namespace rmm::hub
