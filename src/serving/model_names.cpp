// Names: which file a request's model name or path means (and whether a path
// may be used at all), which loaded model a name finds, the catalog of models
// there are to serve, and the names API key patterns match.
#include <algorithm>
#include <chrono>

#include "core/error.hpp"
#include "serving/model_host.hpp"

namespace rmm::serving {

namespace {

// Whether `name` is the file name of `path`, with or without ".gguf".
bool file_named(const std::filesystem::path& path, const std::string& name) {
  return name == path.filename().string() || name == model_id_for(path);
}

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  if (a == b) return true;
  std::error_code ea, eb;
  const auto ca = std::filesystem::weakly_canonical(a, ea);
  const auto cb = std::filesystem::weakly_canonical(b, eb);
  return !ea && !eb && ca == cb;
}

// Whether `path`, with symlinks and ".." resolved, lies inside one of `dirs`.
bool inside_any(const std::filesystem::path& path, const std::vector<std::filesystem::path>& dirs) {
  std::error_code ec;
  const auto real = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
  if (ec) return false;
  for (const auto& d : dirs) {
    std::error_code dec;
    const auto dir = std::filesystem::weakly_canonical(std::filesystem::absolute(d, dec), dec);
    if (dec || dir.empty()) continue;
    auto [di, ri] = std::mismatch(dir.begin(), dir.end(), real.begin(), real.end());
    // A trailing "" element (a dir written with a final slash) matches anything below it.
    if ((di == dir.end() || (std::next(di) == dir.end() && di->empty())) && ri != real.end()) return true;
  }
  return false;
}

}  // namespace

std::string model_id_for(const std::filesystem::path& path) {
  auto name = path.filename().string();
  if (name.size() > 5 && name.substr(name.size() - 5) == ".gguf") name.resize(name.size() - 5);
  return name;
}

std::shared_ptr<HostedModel> ModelHost::find(const std::string& id) const {
  const auto all = loaded();
  if (all.empty()) return nullptr;
  if (id.empty()) {
    std::filesystem::path fallback;
    {
      std::lock_guard lock(mutex_);
      fallback = default_model_;
    }
    if (fallback.empty()) return all.size() == 1 ? all.front() : nullptr;
    for (const auto& m : all) {
      if (m->path == fallback) return m;
    }
    return nullptr;
  }
  std::filesystem::path start_model;
  {
    std::lock_guard lock(mutex_);
    start_model = default_model_;
  }
  // As in resolve(): the model named at start goes by its file name first.
  for (const auto& m : all) {
    if (id == m->id || id == m->path.string() || (m->path == start_model && file_named(m->path, id)))
      return m;
  }
  if (options_.resolve_name) {
    try {
      if (auto path = options_.resolve_name(id)) {
        for (const auto& m : all) {
          if (same_file(*path, m->path)) return m;
        }
      }
    } catch (const Error&) {
      // an ambiguous or path-like name is no name of a loaded model
    }
  }
  // A file name finds a loaded model only when one has it: two model.gguf in
  // different folders share it, and a request must not reach either by chance.
  std::shared_ptr<HostedModel> by_file;
  for (const auto& m : all) {
    if (!file_named(m->path, id)) continue;
    if (by_file) return nullptr;
    by_file = m;
  }
  return by_file;
}

std::string ModelHost::id_of(const std::filesystem::path& path) const {
  if (options_.catalog) {
    const auto files = options_.catalog();
    for (const auto& f : files) {
      if (f.path == path) return f.id;
    }
    for (const auto& f : files) {  // the host keeps canonical paths; the catalog's may go through a symlink
      if (same_file(f.path, path)) return f.id;
    }
  }
  if (options_.names_of) {  // a registered model the catalog leaves out (not a chat model)
    const auto names = options_.names_of(path);
    if (!names.empty()) return names.front();
  }
  return model_id_for(path);
}

std::string ModelHost::no_model_reason() const {
  if (find("")) return "";
  {
    std::lock_guard lock(mutex_);
    if (!default_model_.empty()) return "";
  }
  auto list = [](const std::vector<std::string>& ids) {
    std::string out;
    for (size_t i = 0; i < ids.size() && i < 10; ++i) out += (i ? ", " : "") + ids[i];
    if (ids.size() > 10) out += ", ... (" + std::to_string(ids.size()) + " in all)";
    return out;
  };
  std::vector<std::string> loaded_ids;
  for (const auto& m : loaded()) loaded_ids.push_back(m->id);
  if (!loaded_ids.empty())
    return "the request names no model and " + std::to_string(loaded_ids.size()) +
           " are loaded: name one in \"model\" (" + list(loaded_ids) + ")";
  std::vector<std::string> files;
  for (const auto& f : list_files()) files.push_back(f.id);
  if (files.empty())
    return "the request names no model and none is loaded or in " + options_.models_dir.string() +
           " (rmm pull fetches one)";
  return "the request names no model and none is loaded: name one in \"model\" (" + list(files) +
         "; GET /api/models lists them all)";
}

std::filesystem::path ModelHost::resolve(const std::string& path_or_id, bool local) const {
  std::filesystem::path fallback;
  {
    std::lock_guard lock(mutex_);
    fallback = default_model_;
  }
  // The model named at start goes by its file name, wherever the file lies.
  if (!fallback.empty() && (path_or_id.empty() || path_or_id == model_id_for(fallback) ||
                            path_or_id == fallback.filename().string()))
    return fallback;
  if (path_or_id.empty()) throw Error(ErrorKind::InvalidArgument, no_model_reason());
  const bool bare_name = path_or_id.find('/') == std::string::npos &&
                         path_or_id.find('\\') == std::string::npos &&
                         path_or_id.find("..") == std::string::npos;
  if (bare_name && options_.resolve_name) {
    if (auto path = options_.resolve_name(path_or_id)) return *path;
  }
  // A bare name is looked up in the models dir only: no separators or "..".
  if (bare_name && !options_.models_dir.empty()) {
    for (const auto& f : list_files()) {
      if (f.id == path_or_id || f.path.filename() == path_or_id) return f.path;
    }
  }
  if (!bare_name && !local && !options_.allow_model_paths) {
    auto dirs = options_.model_dirs ? options_.model_dirs() : std::vector<std::filesystem::path>{};
    if (!options_.models_dir.empty()) dirs.push_back(options_.models_dir);
    // Decided before the file is looked at, so the answer says nothing about what exists outside.
    if (!inside_any(path_or_id, dirs))
      throw Error(ErrorKind::Forbidden,
                  "model paths outside the models folders are not accepted: name a model (GET /api/models "
                  "lists them) or put the file in a models folder (rmm serve --allow-model-paths accepts any "
                  "path)");
  }
  std::error_code ec;
  if ((!bare_name || local) && std::filesystem::is_regular_file(path_or_id, ec)) return path_or_id;
  throw Error(ErrorKind::NotFound, "model '" + path_or_id + "' not found (no such name, nor a .gguf in " +
                                       options_.models_dir.string() + ")");
}

std::vector<std::string> ModelHost::names_of(const std::filesystem::path& path) const {
  std::vector<std::string> out{model_id_for(path)};
  if (options_.names_of) {
    for (auto& n : options_.names_of(path)) out.push_back(std::move(n));
  }
  return out;
}

std::vector<ModelFile> ModelHost::list_files() const {
  std::vector<ModelFile> out;
  std::error_code ec;
  if (options_.catalog) {
    out = options_.catalog();
  } else if (!options_.models_dir.empty() && std::filesystem::is_directory(options_.models_dir, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(options_.models_dir, ec)) {
      if (!e.is_regular_file(ec) || e.path().extension() != ".gguf") continue;
      const auto mtime = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::file_clock::to_sys(e.last_write_time(ec)).time_since_epoch())
                             .count();
      out.push_back({model_id_for(e.path()), e.path(), e.file_size(ec), mtime});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

}  // namespace rmm::serving
