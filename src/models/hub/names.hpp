#pragma once
// Validation of names that come from users and from the Hub's listings
// before they become URLs or paths on disk: repo ids, revisions, file paths.
#include <optional>
#include <string>

namespace rmm::hub {

// "OWNER/REPO[:QUANT]" as typed for `rmm pull`.
struct RepoRef {
  std::string repo;   // "owner/name"
  std::string quant;  // empty = the default; may also be an exact .gguf file name
};

// Throws rmm::Error(InvalidArgument) with the reason when `spec` is not
// OWNER/REPO[:QUANT] with safe names.
RepoRef parse_repo_ref(const std::string& spec);

// Throws InvalidArgument unless `repo` is "owner/name" made of letters,
// digits, '-', '_', '.', without "..".
void check_repo_id(const std::string& repo);

// Throws InvalidArgument unless `revision` is a branch, tag or commit name
// without "..", control characters or a leading '/'.
void check_revision(const std::string& revision);

// Throws InvalidArgument unless `path` (a file path from a repo listing) is
// relative, has no "." / ".." / empty parts, backslashes or control
// characters.
void check_repo_path(const std::string& path);

// Throws InvalidArgument unless `name` is a plain file name (no separators, not "." or "..").
void check_file_name(const std::string& name);

}  // namespace rmm::hub
