#include "models/model_files.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "models/model_kind.hpp"

namespace rmm::models {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxDepth = 6;
// Entries looked at per dir: a folder added by mistake (a home folder, a disk) costs a bounded walk.
constexpr size_t kMaxEntries = 200'000;

const std::regex& split_pattern() {
  static const std::regex re(R"(^(.+)-([0-9]{5})-of-([0-9]{5})\.(gguf|safetensors|bin)$)", std::regex::icase);
  return re;
}

bool is_model_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".gguf" || conversion_format(p).has_value();
}

fs::path absolute_path(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  return (ec ? p : abs).lexically_normal();
}

}  // namespace

std::optional<FileStamp> stamp_of_parts(const std::vector<fs::path>& parts) {
  FileStamp total;
  for (const auto& p : parts) {
    auto s = stamp_of(p);
    if (!s) return std::nullopt;
    total.size += s->size;
    total.mtime = std::max(total.mtime, s->mtime);
  }
  return total;
}

std::string stem_without_split(const fs::path& file) {
  std::smatch m;
  const std::string name = file.filename().string();
  if (std::regex_match(name, m, split_pattern())) return m[1].str();
  return file.stem().string();
}

bool is_inside(const fs::path& file, const fs::path& dir) {
  const fs::path f = absolute_path(file);
  const fs::path d = absolute_path(dir);
  auto fi = f.begin();
  for (auto di = d.begin(); di != d.end(); ++di, ++fi) {
    if (di->empty()) continue;  // a trailing separator
    if (fi == f.end() || *fi != *di) return false;
  }
  return true;
}

std::vector<FoundModel> find_models(const std::vector<fs::path>& dirs) {
  std::set<fs::path> files;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
    size_t entries = 0;
    for (; !ec && it != end && entries < kMaxEntries; it.increment(ec), ++entries) {
      const fs::path& p = it->path();
      const bool hidden = p.filename().string().starts_with(".");
      std::error_code type_ec;
      if (it->is_directory(type_ec)) {
        if (hidden || it.depth() >= kMaxDepth) it.disable_recursion_pending();
        continue;
      }
      if (hidden || !is_model_file(p) || !it->is_regular_file(type_ec)) continue;
      files.insert(absolute_path(p));
    }
  }

  struct Group {
    uint32_t count = 0;
    std::map<uint32_t, fs::path> parts;
  };
  std::map<std::string, Group> groups;
  std::vector<FoundModel> out;
  for (const auto& f : files) {
    std::smatch m;
    const std::string name = f.filename().string();
    if (std::regex_match(name, m, split_pattern())) {
      const uint32_t no = static_cast<uint32_t>(std::stoul(m[2].str()));
      const uint32_t count = static_cast<uint32_t>(std::stoul(m[3].str()));
      if (no >= 1 && count >= 1 && no <= count) {
        std::string ext = m[4].str();
        std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
        Group& g = groups[(f.parent_path() / (m[1].str() + "-of-" + m[3].str() + "." + ext)).string()];
        g.count = count;
        g.parts[no] = f;
        continue;
      }
    }
    FoundModel one;
    one.parts = {f};
    if (auto s = stamp_of(f)) one.stamp = *s;
    out.push_back(std::move(one));
  }
  for (auto& [key, g] : groups) {
    FoundModel model;
    model.split_group = key;
    model.split_count = g.count;
    for (uint32_t no = 1; no <= g.count; ++no) {
      auto it = g.parts.find(no);
      if (it == g.parts.end()) {
        model.missing_parts.push_back(no);
      } else {
        model.parts.push_back(it->second);
      }
    }
    if (auto s = stamp_of_parts(model.parts)) model.stamp = *s;
    out.push_back(std::move(model));
  }
  std::sort(out.begin(), out.end(),
            [](const FoundModel& a, const FoundModel& b) { return a.parts.front() < b.parts.front(); });
  return out;
}

}  // namespace rmm::models
