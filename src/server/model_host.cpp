#include "server/model_host.hpp"

#include <algorithm>
#include <chrono>

#include "cache/response_cache.hpp"
#include "core/error.hpp"

namespace rmm::server {

std::string model_id_for(const std::filesystem::path& path) {
  auto name = path.filename().string();
  if (name.size() > 5 && name.substr(name.size() - 5) == ".gguf") name.resize(name.size() - 5);
  return name;
}

ModelHost::ModelHost(HostOptions options) : options_(std::move(options)) {}

ModelHost::~ModelHost() {
  shutdown();
  unload();
}

void ModelHost::run_in_background(std::function<void()> work) {
  std::lock_guard lock(background_mutex_);
  if (stopping_) throw Error(ErrorKind::Cancelled, "the server is shutting down");
  background_.emplace_back(std::move(work));
}

void ModelHost::shutdown() {
  stopping_ = true;
  cancel_all();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(background_mutex_);
    threads.swap(background_);
  }
  for (auto& t : threads) t.join();
}

std::filesystem::path ModelHost::resolve(const std::string& path_or_id) const {
  if (path_or_id.empty()) throw Error(ErrorKind::InvalidArgument, "no model named");
  std::error_code ec;
  if (std::filesystem::is_regular_file(path_or_id, ec)) return path_or_id;
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
  throw Error(ErrorKind::NotFound, "model '" + path_or_id + "' not found (not a file, nor a .gguf in " +
                                       options_.models_dir.string() + ")");
}

std::shared_ptr<HostedModel> ModelHost::load(const std::string& path_or_id,
                                             const std::function<void(float)>& progress) {
  std::lock_guard load_lock(load_mutex_);
  if (stopping_) throw Error(ErrorKind::Cancelled, "the server is shutting down");
  const auto path = resolve(path_or_id);
  loading_ = true;
  struct Reset {
    std::atomic<bool>& flag;
    ~Reset() { flag = false; }
  } reset{loading_};
  // The old model goes first: two at once may not fit (the planner comes later).
  unload();
  engine::LoadParams lp;
  lp.path = path;
  lp.gpu_layers = options_.gpu_layers;
  lp.cancel = &stopping_;
  if (progress) {
    lp.progress = [&progress](float p) {
      progress(p);
      return true;
    };
  }
  auto hosted = std::make_shared<HostedModel>();
  hosted->id = model_id_for(path);
  hosted->path = path;
  hosted->model = engine::Model::load(lp);
  hosted->chat = std::make_unique<engine::ChatFormatter>(*hosted->model, options_.chat_template);
  hosted->engine = std::make_unique<engine::EngineThread>(
      std::make_unique<engine::BatchEngine>(hosted->model, options_.context));
  hosted->created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  if (options_.cache) options_.cache->model_loaded(path);  // hashed in the background
  std::lock_guard lock(mutex_);
  current_ = hosted;
  return hosted;
}

void ModelHost::unload() {
  std::shared_ptr<HostedModel> old;
  {
    std::lock_guard lock(mutex_);
    old = std::move(current_);
  }
  // Requests holding the model keep it alive until they end; cancel them so that is soon.
  if (old) old->engine->cancel_all();
}

std::shared_ptr<HostedModel> ModelHost::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::shared_ptr<HostedModel> ModelHost::find(const std::string& id) const {
  auto m = current();
  if (!m) return nullptr;
  if (id.empty() || id == m->id || id == m->path.filename().string() || id == m->path.string()) return m;
  if (options_.resolve_name) {
    try {
      if (auto path = options_.resolve_name(id); path && *path == m->path) return m;
    } catch (const Error&) {
      // an ambiguous or path-like name is no name of the loaded model
    }
  }
  return nullptr;
}

void ModelHost::cancel_all() {
  if (auto m = current()) m->engine->cancel_all();
}

std::vector<ModelFile> ModelHost::list_files() const {
  std::vector<ModelFile> out;
  std::error_code ec;
  if (options_.models_dir.empty() || !std::filesystem::is_directory(options_.models_dir, ec)) return out;
  for (const auto& e : std::filesystem::directory_iterator(options_.models_dir, ec)) {
    if (!e.is_regular_file(ec) || e.path().extension() != ".gguf") continue;
    out.push_back({model_id_for(e.path()), e.path(), e.file_size(ec)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

}  // namespace rmm::server
