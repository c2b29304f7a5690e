#include "models/hub/names.hpp"

#include <cctype>

#include "core/error.hpp"

namespace rmm::hub {
namespace {

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

bool has_control(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

[[noreturn]] void bad(const std::string& what, const std::string& value, const std::string& why) {
  throw Error(ErrorKind::InvalidArgument, what + " '" + value + "' " + why);
}

void check_part(const std::string& repo, const std::string& part) {
  if (part.empty() || part.size() > 96) bad("repo", repo, "is not OWNER/NAME (each 1 to 96 characters)");
  for (char c : part)
    if (!name_char(c)) bad("repo", repo, "may only use letters, digits, '-', '_' and '.'");
  if (part == "." || part.find("..") != std::string::npos || part.front() == '-' || part.front() == '.')
    bad("repo", repo, "has a part that is '.', '..', contains '..' or starts with '-' or '.'");
}

}  // namespace

void check_repo_id(const std::string& repo) {
  const auto slash = repo.find('/');
  if (slash == std::string::npos || repo.find('/', slash + 1) != std::string::npos)
    bad("repo", repo, "is not OWNER/NAME");
  check_part(repo, repo.substr(0, slash));
  check_part(repo, repo.substr(slash + 1));
}

RepoRef parse_repo_ref(const std::string& spec) {
  RepoRef ref;
  const auto colon = spec.find(':');
  ref.repo = spec.substr(0, colon);
  if (colon != std::string::npos) {
    ref.quant = spec.substr(colon + 1);
    if (ref.quant.empty()) bad("model", spec, "has an empty quantization after ':'");
    check_file_name(ref.quant);
  }
  check_repo_id(ref.repo);
  return ref;
}

void check_revision(const std::string& revision) {
  if (revision.empty() || revision.size() > 255) bad("revision", revision, "must be 1 to 255 characters");
  if (has_control(revision) || revision.front() == '/' || revision.back() == '/' ||
      revision.find("..") != std::string::npos || revision.find('\\') != std::string::npos ||
      revision.find("//") != std::string::npos)
    bad("revision", revision, "is not a valid branch, tag or commit name");
}

void check_repo_path(const std::string& path) {
  if (path.empty() || path.size() > 1024) bad("file", path, "has no name or a name over 1024 characters");
  if (has_control(path) || path.find('\\') != std::string::npos)
    bad("file", path, "has a backslash or control character");
  if (path.front() == '/') bad("file", path, "is an absolute path");
  size_t start = 0;
  while (true) {
    const auto end = path.find('/', start);
    const std::string part = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.empty() || part == "." || part == "..")
      bad("file", path, "has an empty, '.' or '..' path component");
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

void check_file_name(const std::string& name) {
  if (name.empty() || name == "." || name.find("..") != std::string::npos ||
      name.find('/') != std::string::npos || name.find('\\') != std::string::npos || has_control(name) ||
      name.size() > 255)
    bad("name", name, "must be a plain file name without path separators or '..'");
}

}  // namespace rmm::hub
