#include "models/hub/quant_select.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "core/error.hpp"

namespace rmm::hub {
namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}
bool ends_with_gguf(const std::string& path) {
  return path.size() > 5 && lower(path.substr(path.size() - 5)) == ".gguf";
}

// A file, or a split set, that holds one model.
struct Group {
  std::string key;  // the path, without the split suffix
  std::optional<std::string> quant;
  std::vector<std::pair<SplitPart, RepoFile>> parts;
};

}  // namespace

std::optional<std::string> parse_quant(const std::string& file_name) {
  // Names use '-', '.' or '_' between words; quantization names contain '_'
  // themselves, so a match is bounded by the name's start/end or '-'/'.'/'_'
  // and the longest spelling at a position wins (Q4_K_M over Q4_K).
  static const std::regex re(
      "(?:^|[-._])(IQ[1-4]_(?:XXS|XS|NL|S|M)|TQ[12]_0|Q[2-8]_K(?:_(?:XL|S|M|L))?|Q[4-8]_[01]|BF16|F16|F32|"
      "MXFP4(?:_MOE)?)(?=$|[-._])",
      std::regex::icase);
  std::string stem = base_name(file_name);
  if (ends_with_gguf(stem)) stem.resize(stem.size() - 5);
  std::optional<std::string> last;
  for (auto it = std::sregex_iterator(stem.begin(), stem.end(), re); it != std::sregex_iterator(); ++it)
    last = upper((*it)[1].str());
  return last;
}

std::optional<SplitPart> parse_split(const std::string& file_name) {
  static const std::regex re("-([0-9]{5})-of-([0-9]{5})\\.gguf$", std::regex::icase);
  std::smatch m;
  if (!std::regex_search(file_name, m, re)) return std::nullopt;
  SplitPart p{std::stoi(m[1].str()), std::stoi(m[2].str())};
  if (p.count < 1 || p.index < 1 || p.index > p.count) return std::nullopt;
  return p;
}

bool is_mmproj(const std::string& path) { return lower(base_name(path)).find("mmproj") != std::string::npos; }

Selection select_files(const std::string& repo, const std::vector<RepoFile>& files,
                       const std::string& wanted) {
  std::map<std::string, Group> groups;
  std::vector<RepoFile> mmprojs;
  for (const auto& f : files) {
    if (!ends_with_gguf(f.path)) continue;
    if (is_mmproj(f.path)) {
      mmprojs.push_back(f);
      continue;
    }
    const auto split = parse_split(f.path);
    std::string key = f.path;
    if (split) key = f.path.substr(0, f.path.size() - std::string("-00001-of-00001.gguf").size());
    Group& g = groups[key];
    g.key = key;
    g.quant = parse_quant(base_name(key));
    if (!g.quant && key.find('/') != std::string::npos) g.quant = parse_quant(key.substr(0, key.rfind('/')));
    g.parts.emplace_back(split.value_or(SplitPart{1, 1}), f);
  }
  if (groups.empty()) throw Error(ErrorKind::NotFound, "repo " + repo + " has no .gguf model files");

  std::vector<const Group*> matches;
  const bool by_file = ends_with_gguf(wanted);
  const std::string want = by_file ? wanted : upper(wanted.empty() ? kDefaultQuant : wanted);
  for (const auto& [key, g] : groups) {
    if (by_file) {
      for (const auto& [sp, f] : g.parts)
        if (f.path == wanted || base_name(f.path) == wanted) matches.push_back(&g);
    } else if (g.quant && *g.quant == want) {
      matches.push_back(&g);
    }
  }
  if (matches.empty() && wanted.empty() && groups.size() == 1) matches.push_back(&groups.begin()->second);
  if (matches.empty()) {
    std::set<std::string> quants;
    std::vector<std::string> unnamed;
    for (const auto& [key, g] : groups) {
      if (g.quant)
        quants.insert(*g.quant);
      else
        unnamed.push_back(base_name(key) +
                          (g.parts.size() > 1 || g.parts[0].first.count > 1 ? " (split)" : ""));
    }
    std::string have;
    for (const auto& q : quants) have += (have.empty() ? "" : ", ") + q;
    for (const auto& u : unnamed) have += (have.empty() ? "" : ", ") + u;
    const std::string example = quants.empty() ? "" : " (e.g. rmm pull " + repo + ":" + *quants.begin() + ")";
    throw Error(ErrorKind::NotFound, std::string(by_file ? "no file " : "no ") + want +
                                         (by_file ? " in " : " quantization in ") + repo +
                                         "; it has: " + have + example);
  }
  std::sort(matches.begin(), matches.end(), [](const Group* a, const Group* b) {
    return a->key.size() != b->key.size() ? a->key.size() < b->key.size() : a->key < b->key;
  });
  const Group& g = *matches.front();

  Selection sel;
  sel.quant = g.quant.value_or("");
  auto parts = g.parts;
  std::sort(parts.begin(), parts.end(),
            [](const auto& a, const auto& b) { return a.first.index < b.first.index; });
  const int count = parts.front().first.count;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].first.count != count || parts[i].first.index != static_cast<int>(i) + 1)
      throw Error(ErrorKind::BadFile, "split set " + g.key + " in " + repo +
                                          " is incomplete or inconsistent: part " + std::to_string(i + 1) +
                                          " of " + std::to_string(count) + " is missing");
  }
  if (static_cast<int>(parts.size()) != count)
    throw Error(ErrorKind::BadFile, "split set " + g.key + " in " + repo + " has " +
                                        std::to_string(parts.size()) + " of its " + std::to_string(count) +
                                        " parts");
  for (auto& [sp, f] : parts) sel.model.push_back(f);

  if (!mmprojs.empty()) {
    // The projector in the same quantization, else the most precise common one.
    const std::vector<std::string> order = {sel.quant, "F16", "BF16", "Q8_0", "F32"};
    std::sort(mmprojs.begin(), mmprojs.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
    for (const auto& q : order) {
      if (q.empty() || sel.mmproj) continue;
      for (const auto& m : mmprojs)
        if (parse_quant(m.path) == q) {
          sel.mmproj = m;
          break;
        }
    }
    if (!sel.mmproj) sel.mmproj = mmprojs.front();
  }
  return sel;
}

}  // namespace rmm::hub
