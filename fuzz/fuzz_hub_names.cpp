// libFuzzer target for what `rmm pull` takes from users and from the Hub's
// listings before it becomes a URL or a path on disk. Input: the first line is
// a pull spec (OWNER/REPO[:QUANT]), each further line a repo file path. Paths
// that pass check_repo_path must be relative, without "..", and every file
// select_files picks must be one of those given. A rejected name must raise
// rmm::Error; anything else is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "models/hub/names.hpp"
#include "models/hub/quant_select.hpp"

using namespace rmm::hub;

namespace {

bool unsafe(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string::npos) return true;
  std::istringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part == "..") return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::string spec, line;
  std::getline(in, spec);
  RepoRef ref;
  try {
    ref = parse_repo_ref(spec);
  } catch (const rmm::Error&) {
    ref = {"owner/repo", ""};
  }
  std::vector<RepoFile> files;
  uint64_t n = 0;
  while (std::getline(in, line)) {
    try {
      check_repo_path(line);
    } catch (const rmm::Error&) {
      continue;
    }
    if (unsafe(line)) std::abort();  // a path that escapes the model's folder passed the check
    (void)parse_quant(line);
    (void)parse_split(line);
    (void)is_mmproj(line);
    files.push_back(RepoFile{line, ++n, "", ""});
  }
  try {
    const Selection s = select_files(ref.repo, files, ref.quant);
    for (const auto& f : s.model) {
      bool given = false;
      for (const auto& g : files) given = given || g.path == f.path;
      if (!given) std::abort();
    }
  } catch (const rmm::Error&) {
  }
  return 0;
}
