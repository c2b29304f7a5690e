#include "models/registry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "core/error.hpp"
#include "core/json_limits.hpp"
#include "gguf/model_info.hpp"
#include "models/model_files.hpp"
#include "models/model_kind.hpp"
#include "models/short_name.hpp"

namespace rmm::models {

namespace fs = std::filesystem;
using json = nlohmann::json;
using store::ModelRecord;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

json parse_metadata(const ModelRecord& m) {
  json j = json::parse(m.metadata_json, nullptr, false);
  return j.is_object() ? j : json::object();
}

// Kind, metadata and short-name candidate of the files as they are now.
struct Description {
  ModelKind kind = ModelKind::Chat;
  json metadata = json::object();
  std::string candidate;
  // Tried in order when the candidate is taken, before "-2", "-3", ... (which
  // read like other model families: "llama-2").
  std::vector<std::string> alternatives;
};

// "OWNER/REPO" of a model file that rmm pull wrote, from the rmm-pull.json
// beside it; nullopt for other files (or a manifest that is not ours).
std::optional<std::string> pulled_repo(const fs::path& file) {
  const fs::path manifest = file.parent_path() / "rmm-pull.json";
  std::error_code ec;
  if (!fs::is_regular_file(manifest, ec) || fs::file_size(manifest, ec) > (1u << 20)) return std::nullopt;
  std::ifstream in(manifest);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto j = parse_json_bounded<json>(text, manifest.string(), false);
  if (!j.is_object() || !j.contains("repo") || !j["repo"].is_string()) return std::nullopt;
  const std::string repo = j["repo"].get<std::string>();
  const auto slash = repo.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == repo.size()) return std::nullopt;
  return repo;
}

// A pulled file is named for its repo, as Ollama names hf.co models: the
// repo's name without "-GGUF" and the quantization ("Llama-3.2-1B-Instruct-GGUF"
// → "llama-3.2-1b-instruct:q4_k_m"); the owner is added when that is taken.
void name_for_repo(Description& d, const std::string& repo, const std::string& quant,
                   const std::string& suffix) {
  const std::string owner = repo.substr(0, repo.find('/'));
  std::string name = repo.substr(repo.find('/') + 1);
  const std::string tail = lower(name.size() > 5 ? name.substr(name.size() - 5) : "");
  if (tail == "-gguf" || tail == "_gguf" || tail == ".gguf") name.resize(name.size() - 5);
  const std::string by_file = d.candidate;
  d.candidate = short_name_candidate("", name, quant, suffix);
  d.alternatives = {short_name_candidate("", owner + "-" + name, quant, suffix), by_file};
}

Description describe(const FoundModel& found) {
  Description d;
  const fs::path& first = found.parts.front();
  const std::string stem = stem_without_split(first);
  if (found.parts.size() > 1 || found.split_count > 1) {
    json parts = json::array();
    for (const auto& p : found.parts) parts.push_back(p.string());
    d.metadata["parts"] = std::move(parts);
    d.metadata["split_count"] = found.split_count;
  }
  if (auto format = conversion_format(first)) {
    d.kind = ModelKind::NeedsConversion;
    d.metadata["format"] = *format;
    d.metadata["error"] =
        *format + " weights: convert them to GGUF (llama.cpp's convert_hf_to_gguf.py) to run them";
    d.candidate = short_name_candidate("", stem, *format);
    return d;
  }
  if (!found.missing_parts.empty()) {
    std::string missing;
    for (uint32_t no : found.missing_parts) missing += (missing.empty() ? "" : ", ") + std::to_string(no);
    d.kind = ModelKind::Invalid;
    d.metadata["error"] =
        "split model is missing part(s) " + missing + " of " + std::to_string(found.split_count);
    d.candidate = short_name_candidate("", stem, "");
    return d;
  }
  try {
    const gguf::GgufFile file = gguf::read_file(first);
    gguf::ModelInfo info = gguf::derive_model_info(file);
    // The other parts of a split model hold more tensors (and parameters).
    for (size_t i = 1; i < found.parts.size(); ++i) {
      const auto more = gguf::derive_model_info(gguf::read_file(found.parts[i]));
      info.n_params += more.n_params;
      info.tensor_bytes += more.tensor_bytes;
    }
    d.kind = detect_kind(file);
    d.metadata["architecture"] = info.architecture;
    d.metadata["name"] = info.name;
    d.metadata["parameters"] = info.n_params;
    d.metadata["quantization"] = info.file_type;
    d.metadata["context_length"] = info.context_length;
    d.metadata["embedding_length"] = info.embedding_length;
    d.metadata["layers"] = info.n_layer;
    d.metadata["chat_template"] = info.has_chat_template;
    d.metadata["tensor_bytes"] = info.tensor_bytes;
    const char* suffix = d.kind == ModelKind::VisionProjector ? "mmproj"
                         : d.kind == ModelKind::Reranker      ? "reranker"
                                                              : "";
    d.candidate = short_name_candidate(info.name, stem, info.file_type, suffix);
    if (const auto repo = pulled_repo(first)) name_for_repo(d, *repo, info.file_type, suffix);
  } catch (const Error& e) {
    d.kind = ModelKind::Invalid;
    d.metadata["error"] = e.what();
    d.candidate = short_name_candidate("", stem, "");
  }
  return d;
}

}  // namespace

Registry::Registry(store::ModelStore& store, RegistryOptions options)
    : store_(store), options_(std::move(options)) {
  if (options_.hash_in_background) hasher_ = std::make_unique<FileHasher>(store_);
}

Registry::~Registry() = default;

std::vector<fs::path> Registry::parts_of(const ModelRecord& model) {
  const json meta = parse_metadata(model);
  std::vector<fs::path> parts;
  if (meta.contains("parts") && meta["parts"].is_array()) {
    for (const auto& p : meta["parts"])
      if (p.is_string()) parts.emplace_back(p.get<std::string>());
  }
  if (parts.empty()) parts.emplace_back(model.path);
  return parts;
}

void Registry::queue_hash(const ModelRecord& model) {
  if (!hasher_ || !model.sha256.empty() || model.kind == kind_name(ModelKind::Invalid)) return;
  hasher_->enqueue(model, parts_of(model));
}

ScanReport Registry::scan(bool force) {
  std::lock_guard lock(mutex_);
  ScanReport report;
  const std::vector<fs::path> scanned = dirs();
  std::vector<FoundModel> found = find_models(scanned);
  for (const auto& file : files_) {
    // After the dirs' files, so that a name both want in one scan goes to the one in a models dir.
    std::error_code ec;
    const fs::path abs = fs::absolute(file, ec).lexically_normal();
    const auto stamp = stamp_of_parts({abs});
    if (!stamp) continue;
    FoundModel f;
    f.parts = {abs};
    f.stamp = *stamp;
    found.push_back(std::move(f));
  }
  std::vector<ModelRecord> known = store_.list_models();
  std::map<std::string, size_t> by_path;
  std::set<std::string> taken;
  for (size_t i = 0; i < known.size(); ++i) {
    by_path[known[i].path] = i;
    taken.insert(known[i].short_name);
    for (const auto& a : known[i].aliases) taken.insert(a);
  }
  auto is_taken = [&](const std::string& n) { return taken.count(n) > 0; };

  std::set<std::string> seen;
  for (const FoundModel& f : found) {
    const std::string path = f.parts.front().string();
    if (!seen.insert(path).second) continue;  // a file in files_ inside a dir
    auto it = by_path.find(path);
    const ModelRecord* old = it == by_path.end() ? nullptr : &known[it->second];
    if (old && !force && old->size == f.stamp.size && old->mtime == f.stamp.mtime &&
        parts_of(*old).size() == f.parts.size()) {
      ++report.unchanged;
      queue_hash(*old);
      continue;
    }
    Description d = describe(f);
    ModelRecord m = old ? *old : ModelRecord{};
    m.path = path;
    m.size = f.stamp.size;
    m.mtime = f.stamp.mtime;
    m.kind = kind_name(d.kind);
    m.split_group = f.split_group;
    // A file that became unreadable (or lost a part) keeps its name: it is
    // still the same model to its aliases and scripts.
    const std::string old_candidate = old ? parse_metadata(*old).value("name_candidate", "") : "";
    if (old && d.kind == ModelKind::Invalid) d.candidate = old_candidate;
    if (!old || old_candidate != d.candidate) {
      if (old) taken.erase(old->short_name);
      m.short_name.clear();
      for (const auto& alt : d.alternatives) {
        if (!is_taken(d.candidate) || !m.short_name.empty()) break;
        if (!is_taken(alt)) m.short_name = alt;
      }
      if (m.short_name.empty()) m.short_name = unique_short_name(d.candidate, is_taken);
      taken.insert(m.short_name);
    }
    d.metadata["name_candidate"] = d.candidate;
    m.metadata_json = d.metadata.dump();
    // Same size and mtime after a forced rescan: the file did not change, nor its hash.
    if (old && (old->size != m.size || old->mtime != m.mtime)) m.sha256.clear();
    try {
      ModelRecord stored = store_.put_model(m);
      ++(old ? report.updated : report.added);
      queue_hash(stored);
    } catch (const Error& e) {
      spdlog::warn("model registry: {}: {}", path, e.what());
    }
  }

  for (const ModelRecord& m : known) {
    if (seen.count(m.path)) continue;
    const bool under_scanned_dir =
        std::any_of(scanned.begin(), scanned.end(), [&](const fs::path& d) { return is_inside(m.path, d); });
    if (under_scanned_dir || !stamp_of_parts(parts_of(m))) {
      store_.delete_model(m.id);
      ++report.removed;
    }
  }
  return report;
}

std::optional<ModelRecord> Registry::add_file(const fs::path& file) {
  std::error_code ec;
  const fs::path abs = fs::absolute(file, ec).lexically_normal();  // as find_models gives paths
  {
    std::lock_guard lock(mutex_);
    if (std::find(files_.begin(), files_.end(), abs) == files_.end()) files_.push_back(abs);
  }
  scan();
  return find_by_path(abs);
}

std::vector<ModelRecord> Registry::list() { return store_.list_models(); }

std::vector<Registry::Folder> Registry::folders() {
  std::vector<Folder> out;
  for (size_t i = 0; i < options_.dirs.size(); ++i)
    out.push_back({options_.dirs[i], i == 0 ? "main" : "config"});
  for (const auto& f : store_.list_model_folders()) out.push_back({f.path, "added"});
  return out;
}

std::vector<fs::path> Registry::dirs() {
  std::vector<fs::path> out;
  for (auto& f : folders()) out.push_back(std::move(f.path));
  return out;
}

namespace {

constexpr size_t kMaxFolderPath = 4096;

// The folder `dir` names, made canonical; the checks add_folder documents, bar the scan.
fs::path checked_new_folder(const std::string& dir, const std::vector<fs::path>& existing) {
  if (dir.empty()) throw Error(ErrorKind::InvalidArgument, "the folder is empty: give an absolute path");
  if (dir.size() > kMaxFolderPath || dir.find('\0') != std::string::npos)
    throw Error(ErrorKind::InvalidArgument,
                "the folder is not a usable path (too long, or a NUL byte in it)");
  const fs::path given(dir);
  if (!given.is_absolute())
    throw Error(ErrorKind::InvalidArgument, "the folder must be an absolute path, not '" + dir + "'");
  std::error_code ec;
  const fs::path canon = fs::canonical(given, ec);
  if (ec) throw Error(ErrorKind::NotFound, "no folder at " + dir);
  if (!fs::is_directory(canon, ec)) throw Error(ErrorKind::InvalidArgument, dir + " is not a folder");
  // Nothing to find there, and a walk over them is costly or strange (device files, /proc's loops).
  for (const char* system : {"/proc", "/sys", "/dev"}) {
    if (is_inside(canon, system))
      throw Error(ErrorKind::Forbidden, dir + " is a system folder: it cannot be a models folder");
  }
  if (canon == canon.root_path())
    throw Error(ErrorKind::Forbidden,
                dir + " is the root of the file system: add the folder that holds the models");
  for (const auto& d : existing) {
    const fs::path known = fs::weakly_canonical(d, ec);
    if (canon == known) throw Error(ErrorKind::InvalidArgument, dir + " is a models folder already");
    if (is_inside(canon, known))
      throw Error(ErrorKind::InvalidArgument,
                  dir + " is inside the models folder " + d.string() + ", which is scanned already");
  }
  return canon;
}

}  // namespace

std::pair<Registry::Folder, std::vector<ModelRecord>> Registry::add_folder(const std::string& dir) {
  const fs::path canon = checked_new_folder(dir, dirs());
  const auto found = find_models({canon});
  if (found.empty())
    throw Error(ErrorKind::InvalidArgument,
                "no model files in " + dir + " (looked for .gguf files up to 6 folders deep)");
  store_.add_model_folder({canon.string(), 0});
  scan();
  std::vector<ModelRecord> models;
  for (auto& m : store_.list_models())
    if (is_inside(m.path, canon)) models.push_back(std::move(m));
  return {{canon, "added"}, std::move(models)};
}

std::vector<ModelRecord> Registry::remove_folder(const std::string& dir) {
  std::error_code ec;
  const fs::path given(dir);
  // As stored: canonical when added; the path may be gone since, so the given one counts too.
  const fs::path canon = given.is_absolute() ? fs::weakly_canonical(given, ec) : given;
  std::string stored;
  for (const auto& f : store_.list_model_folders()) {
    if (f.path == dir || (!ec && f.path == canon.string())) stored = f.path;
  }
  if (stored.empty()) {
    for (const auto& d : options_.dirs) {
      if (d == given || (!ec && fs::weakly_canonical(d, ec) == canon))
        throw Error(ErrorKind::InvalidArgument,
                    dir + " is a configured models folder: change [models] extra_dirs or --models-dir");
    }
    throw Error(ErrorKind::NotFound, dir + " is not an added models folder");
  }
  std::lock_guard lock(mutex_);
  store_.remove_model_folder(stored);
  const std::vector<fs::path> remaining = dirs();
  std::vector<ModelRecord> forgotten;
  for (auto& m : store_.list_models()) {
    if (!is_inside(m.path, stored)) continue;
    if (std::any_of(remaining.begin(), remaining.end(),
                    [&](const fs::path& d) { return is_inside(m.path, d); }))
      continue;
    if (std::find(files_.begin(), files_.end(), fs::path(m.path)) != files_.end()) continue;
    store_.delete_model(m.id);
    forgotten.push_back(std::move(m));
  }
  return forgotten;
}

std::optional<ModelRecord> Registry::find_locked(const std::string& name) {
  check_name(name, "model name");
  const std::vector<ModelRecord> all = store_.list_models();
  auto pick = [&](auto&& match) -> std::optional<ModelRecord> {
    std::vector<const ModelRecord*> hits;
    for (const auto& m : all)
      if (match(m)) hits.push_back(&m);
    if (hits.empty()) return std::nullopt;
    if (hits.size() > 1) {
      std::string names;
      for (const auto* m : hits) names += (names.empty() ? "" : ", ") + m->short_name;
      throw Error(ErrorKind::InvalidArgument, "model name '" + name + "' is ambiguous: it matches " + names);
    }
    return *hits.front();
  };
  const std::string lname = lower(name);
  if (auto m = pick([&](const ModelRecord& r) { return r.short_name == name; })) return m;
  if (auto m = pick([&](const ModelRecord& r) {
        return std::find(r.aliases.begin(), r.aliases.end(), name) != r.aliases.end();
      }))
    return m;
  if (auto m = pick([&](const ModelRecord& r) {
        const fs::path p(r.path);
        return lower(p.filename().string()) == lname || lower(p.stem().string()) == lname ||
               lower(stem_without_split(p)) == lname;
      }))
    return m;
  if (auto m = pick([&](const ModelRecord& r) { return lower(r.short_name) == lname; })) return m;
  if (auto m = pick([&](const ModelRecord& r) {
        return std::any_of(r.aliases.begin(), r.aliases.end(),
                           [&](const auto& a) { return lower(a) == lname; });
      }))
    return m;
  return pick(
      [&](const ModelRecord& r) { return lower(r.short_name.substr(0, r.short_name.find(':'))) == lname; });
}

std::optional<ModelRecord> Registry::find(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto m = find_locked(name);
  if (!m) return std::nullopt;
  return refresh_locked(*m);
}

ModelRecord Registry::resolve(const std::string& name) {
  if (auto m = find(name)) return *m;
  throw Error(ErrorKind::NotFound,
              "no model named '" + name + "' (not a file, and not in the registry: see `rmm models`)");
}

ModelRecord Registry::refresh_locked(const ModelRecord& model) {
  const auto parts = parts_of(model);
  const auto stamp = stamp_of_parts(parts);
  if (!stamp)
    throw Error(ErrorKind::NotFound, "model '" + model.short_name + "' is indexed at " + model.path +
                                         " but its file is gone (deleted or moved); `rmm models` rescans");
  if (stamp->size == model.size && stamp->mtime == model.mtime) return model;
  // Replaced on disk since it was indexed: read it again before anyone loads it.
  spdlog::info("model registry: {} changed on disk, re-reading it", model.path);
  FoundModel f;
  f.parts = parts;
  f.split_group = model.split_group;
  f.split_count = model.split_group.empty() ? 0 : static_cast<uint32_t>(parts.size());
  f.stamp = *stamp;
  Description d = describe(f);
  ModelRecord m = model;
  m.size = stamp->size;
  m.mtime = stamp->mtime;
  m.sha256.clear();
  m.kind = kind_name(d.kind);
  d.metadata["name_candidate"] = parse_metadata(model).value("name_candidate", d.candidate);
  m.metadata_json = d.metadata.dump();
  ModelRecord stored = store_.put_model(m);
  queue_hash(stored);
  return stored;
}

std::optional<ModelRecord> Registry::find_by_path(const fs::path& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec).lexically_normal();
  for (auto& m : store_.list_models()) {
    for (const auto& p : parts_of(m))
      if (p == abs) return m;
  }
  return std::nullopt;
}

ModelRecord Registry::set_alias(const std::string& name, const std::string& alias) {
  check_name(alias, "alias");
  std::lock_guard lock(mutex_);
  auto model = find_locked(name);
  if (!model) throw Error(ErrorKind::NotFound, "no model named '" + name + "' (see `rmm models`)");
  std::optional<std::string> existing;  // the alias as spelled now, in any case
  for (const auto& m : store_.list_models()) {
    if (m.short_name == alias)
      throw Error(ErrorKind::InvalidArgument, "alias '" + alias + "' is the name of " +
                                                  (m.id == model->id ? "this" : "another") + " model");
    for (const auto& a : m.aliases)
      if (lower(a) == lower(alias)) existing = a;
  }
  const bool is_alias = existing.has_value();
  // An alias that already names a model another way (its file name, its name
  // in another case, its base) would shadow it; an existing alias moves.
  if (!is_alias) {
    std::optional<ModelRecord> named;
    try {
      named = find_locked(alias);
    } catch (const Error&) {  // ambiguous: it names several
      throw Error(ErrorKind::InvalidArgument, "alias '" + alias + "' already names several models");
    }
    if (named && named->id != model->id)
      throw Error(ErrorKind::InvalidArgument,
                  "alias '" + alias + "' already names model '" + named->short_name + "'; choose another");
  }
  if (existing && *existing != alias) store_.remove_model_alias(*existing);  // one spelling per alias
  store_.set_model_alias(alias, model->id);
  return *store_.get_model(model->id);
}

bool Registry::remove_alias(const std::string& alias) {
  check_name(alias, "alias");
  return store_.remove_model_alias(alias);
}

store::ModelRecord Registry::add_tag(const std::string& name, const std::string& tag) {
  check_name(tag, "tag");
  std::lock_guard lock(mutex_);
  auto model = find_locked(name);
  if (!model) throw Error(ErrorKind::NotFound, "no model named '" + name + "' (see `rmm models`)");
  store_.add_model_tag(model->id, tag);
  return *store_.get_model(model->id);
}

bool Registry::remove_tag(const std::string& name, const std::string& tag) {
  std::lock_guard lock(mutex_);
  auto model = find_locked(name);
  if (!model) throw Error(ErrorKind::NotFound, "no model named '" + name + "' (see `rmm models`)");
  return store_.remove_model_tag(model->id, tag);
}

std::vector<fs::path> Registry::remove(const ModelRecord& model) {
  std::lock_guard lock(mutex_);
  std::vector<fs::path> deleted;
  for (const auto& p : parts_of(model)) {
    std::error_code ec;
    if (fs::remove(p, ec)) {
      deleted.push_back(p);
    } else if (ec) {
      throw Error(ErrorKind::Internal, "cannot delete " + p.string() + ": " + ec.message());
    }
  }
  store_.delete_model(model.id);
  return deleted;
}

void Registry::record_use(int64_t id, const std::optional<store::ModelSpeed>& speed) {
  store_.record_model_use(id, speed);
}

std::optional<std::string> Registry::model_sha256(const fs::path& path) {
  if (!hasher_) return std::nullopt;
  {
    std::lock_guard lock(known_mutex_);
    if (auto it = known_.find(path);
        it != known_.end() && stamp_of_parts(it->second.parts) == it->second.stamp)
      return it->second.sha256;
  }
  auto model = find_by_path(path);
  if (!model) {  // the host keeps canonical paths; the registry's may go through a symlink
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(path, ec);
    for (const auto& m : store_.list_models()) {
      if (ec) break;
      std::error_code ec2;
      if (fs::weakly_canonical(m.path, ec2) == canonical && !ec2) {
        model = m;
        break;
      }
    }
  }
  std::vector<fs::path> parts = model ? parts_of(*model) : std::vector<fs::path>{path};
  auto stamp = stamp_of_parts(parts);
  if (!stamp) return std::nullopt;
  std::optional<std::string> hash;
  if (model) {
    if (stamp->size != model->size || stamp->mtime != model->mtime) {
      std::lock_guard lock(mutex_);
      try {
        model = refresh_locked(*model);  // clears the hash and queues the new version's
      } catch (const std::exception& e) {
        spdlog::warn("model registry: {}: {}", model->path, e.what());
        return std::nullopt;
      }
    }
    if (!model->sha256.empty()) {
      hash = model->sha256;
    } else if (model->kind != kind_name(ModelKind::Invalid) && !hasher_->failed(parts.front(), *stamp)) {
      hasher_->enqueue(*model, parts, true);
    }
  } else {
    hash = hasher_->file_sha256(path, *stamp);
  }
  if (!hash) return std::nullopt;
  // Remembered with the stamp it belongs to (a registered model's: as stored, which is as the file
  // is now), so that the next request costs one stat.
  if (model) stamp = FileStamp{model->size, model->mtime};
  std::lock_guard lock(known_mutex_);
  known_[path] = {parts, *stamp, *hash};
  return hash;
}

void Registry::wait_for_hashes() {
  if (hasher_) hasher_->wait_idle();
}

size_t Registry::hashes_pending() { return hasher_ ? hasher_->pending() : 0; }

std::vector<fs::path> model_dirs(const Config& config, const fs::path& main_dir) {
  std::vector<fs::path> dirs{main_dir};
  const std::string extra = config.get_string("models", "extra_dirs", "");
  size_t start = 0;
  while (start <= extra.size()) {
    size_t end = extra.find(':', start);
    if (end == std::string::npos) end = extra.size();
    if (end > start) dirs.emplace_back(extra.substr(start, end - start));
    start = end + 1;
  }
  return dirs;
}

std::vector<Registry::Speed> Registry::speeds(int64_t id) {
  std::map<std::string, Speed> by_backend;
  for (const auto& s : store_.model_speeds(id)) {  // newest first
    auto& b = by_backend[s.backend];
    if (b.runs == 0) {
      b.backend = s.backend;
      b.measured_at = s.measured_at;
    }
    b.prompt_tokens_per_second += s.prompt_tokens_per_second;
    b.generation_tokens_per_second += s.generation_tokens_per_second;
    ++b.runs;
  }
  std::vector<Speed> out;
  for (auto& [name, b] : by_backend) {
    b.prompt_tokens_per_second /= static_cast<double>(b.runs);
    b.generation_tokens_per_second /= static_cast<double>(b.runs);
    out.push_back(b);
  }
  return out;
}

}  // namespace rmm::models
