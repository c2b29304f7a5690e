#include "server/native/model_routes.hpp"

#include <set>
#include <thread>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "gguf/model_info.hpp"
#include "gguf/reader.hpp"
#include "models/short_name.hpp"
#include "server/access_guard.hpp"
#include "server/api_error.hpp"
#include "server/keep_alive.hpp"
#include "server/native/folder_routes.hpp"
#include "server/query_string.hpp"
#include "server/request_body.hpp"
#include "server/route_guard.hpp"
#include "worker/worker_client.hpp"

namespace rmm::server::native {
namespace {

using json = nlohmann::json;
using http::status;

// `id`: the one name the server shows for the model (ModelHost::id_of).
json model_summary(const std::string& id, const std::filesystem::path& path) {
  json j = {{"id", id}, {"path", path.string()}};
  std::error_code ec;
  j["size"] = std::filesystem::file_size(path, ec);
  try {
    const auto info = gguf::derive_model_info(gguf::read_file(path));
    j["architecture"] = info.architecture;
    j["name"] = info.name;
    j["parameters"] = info.n_params;
    j["quantization"] = info.file_type;
    j["context_length"] = info.context_length;
    j["chat_template"] = info.has_chat_template;
  } catch (const Error& e) {
    j["error"] = e.what();
  }
  return j;
}

json memory_json(const gguf::DeviceMemory& d) {
  return {{"weights", d.weights}, {"kv_cache", d.kv_cache}, {"compute", d.compute},
          {"output", d.output},   {"runtime", d.runtime},   {"total", d.total()}};
}

json optional_json(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

// The generations that ended in the last window (not cache replays).
json recent_json(const serving::RecentSummary& r) {
  return {{"window_s", r.window_s},
          {"requests", r.requests},
          {"prompt_tokens", r.prompt_tokens},
          {"generated_tokens", r.generated_tokens},
          {"prompt_tokens_per_second", optional_json(r.prompt_tokens_per_second)},
          {"generation_tokens_per_second", optional_json(r.generation_tokens_per_second)},
          {"time_to_first_token_ms", optional_json(r.time_to_first_token_ms)}};
}

json loaded_json(const serving::HostedModel& m) {
  const auto e = m.generator->shape();
  json devices = json::array();
  for (const auto& d : m.plan.devices) {
    json j = memory_json(d.need);
    j["device"] = d.device;
    devices.push_back(std::move(j));
  }
  const int64_t expires = m.expires_at_ms();
  const int64_t keep = m.keep_alive_ms;
  return {{"id", m.id},
          {"path", m.path.string()},
          {"description", m.description},
          {"context_size", e.n_ctx},
          {"context_per_slot", e.n_ctx_seq},
          {"slots", e.n_seq},
          {"worker", m.worker ? json{{"pid", m.worker->pid()}} : json(nullptr)},
          {"running", m.generator->running()},
          {"queued", m.generator->queued()},
          {"loaded_at", m.created},
          {"memory", {{"total", m.plan.total()}, {"gpu_layers", m.plan.gpu_layers}, {"devices", devices}}},
          {"last_use", m.last_use_ms / 1000.0},
          {"pinned", m.pinned.load()},
          {"keep_alive", keep < 0 ? json(-1) : json(keep / 1000.0)},
          {"expires_at", expires == serving::kKeepForever ? json(nullptr) : json(expires / 1000.0)}};
}

json budgets_json(const std::vector<models::DeviceBudget>& budgets,
                  const std::vector<models::DeviceBudget>& free) {
  json out = json::array();
  for (size_t i = 0; i < budgets.size(); ++i) {
    out.push_back({{"device", budgets[i].device},
                   {"gpu", budgets[i].gpu},
                   {"budget", budgets[i].bytes},
                   {"available", i < free.size() ? free[i].bytes : 0}});
  }
  return out;
}

std::filesystem::path canonical_or_same(const std::filesystem::path& p) {
  std::error_code ec;
  auto c = std::filesystem::weakly_canonical(p, ec);
  return ec ? p : c;
}

std::shared_ptr<serving::HostedModel> loaded_at(
    const std::vector<std::shared_ptr<serving::HostedModel>>& loaded, const std::filesystem::path& path) {
  for (const auto& m : loaded) {
    if (canonical_or_same(m->path) == path) return m;
  }
  return nullptr;
}

bool is_loaded(const std::vector<std::shared_ptr<serving::HostedModel>>& loaded,
               const std::filesystem::path& path) {
  return loaded_at(loaded, path) != nullptr;
}

// A registry entry as `rmm models --json` shows it, plus its id (the short name, as /v1/models shows
// it), whether it is loaded and its speeds.
json registry_model_json(const store::ModelRecord& r, bool loaded,
                         const std::vector<models::Registry::Speed>& speeds,
                         const std::string& chat_template_override) {
  json meta = json::parse(r.metadata_json, nullptr, false);
  if (!meta.is_object()) meta = json::object();
  json j = {{"id", r.short_name},
            {"name", r.short_name},
            {"aliases", r.aliases},
            {"tags", r.tags},
            {"path", r.path},
            {"size", r.size},
            {"kind", r.kind},
            {"use_count", r.use_count},
            {"last_used", r.last_used ? json(r.last_used) : json(nullptr)},
            {"loaded", loaded}};
  for (const char* key : {"architecture", "parameters", "quantization", "context_length", "chat_template"}) {
    if (meta.contains(key)) j[key] = meta[key];
  }
  if (meta.contains("name")) j["model_name"] = meta["name"];
  // The model brings no chat template and the server names none: chats use ChatML.
  if (chat_template_override.empty() && meta.contains("chat_template") && meta["chat_template"] == false)
    j["chat_template_fallback"] = "chatml";
  json sj = json::object();  // measured in real runs, per backend
  for (const auto& sp : speeds) {
    sj[sp.backend] = {{"prompt_tokens_per_second", sp.prompt_tokens_per_second},
                      {"generation_tokens_per_second", sp.generation_tokens_per_second},
                      {"runs", sp.runs}};
  }
  j["speeds"] = std::move(sj);
  return j;
}

// DELETE /api/models/{name}: a busy model is refused (409); an idle loaded
// one is unloaded first; then its files go (with the registry entry).
void remove_model(const std::shared_ptr<Exchange>& ex, serving::ModelHost& host, models::Registry* registry) {
  // Percent escapes decoded (a browser sends "qwen%3Aq4_k_m"); '+' is no space in a path.
  std::string raw = ex->path_params().at(0);
  for (size_t i = 0; (i = raw.find('+', i)) != std::string::npos; i += 3) raw.replace(i, 1, "%2B");
  const std::string name = percent_decode(raw);
  if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos ||
      name.find("..") != std::string::npos)
    throw ApiError(status::bad_request, "'" + name + "' is not a model name (paths are not accepted)",
                   "name");
  std::optional<store::ModelRecord> record;
  std::filesystem::path path;
  if (registry) {
    if ((record = registry->find(name))) path = record->path;
  } else {
    for (const auto& f : host.list_files()) {
      if (f.id == name || f.path.filename() == name) path = f.path;
    }
  }
  if (path.empty())
    throw ApiError(status::not_found, "no model named '" + name + "'", "name", "invalid_request_error",
                   "model_not_found");
  if (auto m = loaded_at(host.loaded(), canonical_or_same(path))) {
    if (!m->idle())
      throw ApiError(status::conflict,
                     "model '" + m->id + "' is in use (" + std::to_string(m->generator->running()) +
                         " running, " + std::to_string(m->generator->queued()) +
                         " queued); try again when idle",
                     "name", "invalid_request_error", "conflict");
    host.unload(m->path.string());
  }
  json files = json::array();
  if (record) {
    for (const auto& f : registry->remove(*record)) files.push_back(f.string());
  } else {
    std::error_code ec;
    if (!std::filesystem::remove(path, ec) || ec)
      throw Error(ErrorKind::Internal, "cannot delete " + path.string() + ": " + ec.message());
    files.push_back(path.string());
  }
  spdlog::info("deleted model {} ({} files)", name, files.size());
  ex->send_json(status::ok, {{"deleted", record ? record->short_name : host.id_of(path)}, {"files", files}});
}

void load(const std::shared_ptr<Exchange>& ex, serving::ModelHost& host) {
  const json body = parse_body(*ex);
  const std::string target = model_field(body);
  const serving::UseOptions use = use_options_from(body);
  if (target.empty())
    throw ApiError(status::bad_request, "name the model to load in 'model' (a path or a name)", "model");
  const bool stream = body.contains("stream") && body["stream"].is_boolean() && body["stream"].get<bool>();
  // 404 (or 403 for a path outside the models folders, or a model the key may not use) before the stream
  // begins.
  check_model_access(ex->principal(), host, target);
  ex->set_usage(target, 0);
  // Loading takes a while: it runs off the I/O thread; progress streams as SSE when asked.
  if (stream) ex->begin_stream();
  host.run_in_background([ex, &host, target, stream, use] {
    try {
      int last = -1;
      auto m = host.acquire(target, use, [&](float p) {
        const int pct = static_cast<int>(p * 100);
        if (stream && pct != last) {
          last = pct;
          ex->write_chunk(
              "data: " + json{{"type", "load_progress"}, {"progress", p}, {"stage", "weights"}}.dump() +
              "\n\n");
        }
      });
      if (stream && last < 0) {  // already loaded, or loaded by another request that this one waited for
        ex->write_chunk(
            "data: " + json{{"type", "load_progress"}, {"progress", 1.0}, {"stage", "weights"}}.dump() +
            "\n\n");
      }
      const json done = {{"type", "load_complete"}, {"model", loaded_json(*m)}};
      if (stream) {
        ex->write_chunk("data: " + done.dump() + "\n\n");
        ex->end_stream();
      } else {
        ex->send_json(status::ok, done);
      }
    } catch (const Error& e) {
      const json err = api_error_json(e.what(), error_kind_name(e.kind()));
      if (stream) {
        ex->write_chunk("data: " + err.dump() + "\n\n");
        ex->end_stream();
      } else {
        ex->send_json(status_for(e.kind()), err);
      }
    }
  });
}

}  // namespace

void add_model_routes(Router& router, serving::ModelHost& host, models::Registry* registry) {
  if (registry) add_folder_routes(router, *registry);
  router.add(http::verb::get, "/api/models",
             guarded_blocking([&host, registry](const std::shared_ptr<Exchange>& ex) {
               json data = json::array();
               const auto loaded = host.loaded();
               std::set<std::filesystem::path> listed;
               if (registry) {
                 // Files copied into a models folder while the server runs show up at once: the
                 // rescan only stats the files and re-reads those whose size or mtime changed.
                 registry->scan();
                 for (const auto& r : registry->list()) {
                   const auto path = canonical_or_same(r.path);
                   listed.insert(path);
                   data.push_back(registry_model_json(r, is_loaded(loaded, path), registry->speeds(r.id),
                                                      host.options().chat_template));
                 }
               } else {
                 for (const auto& f : host.list_files()) {
                   const auto path = canonical_or_same(f.path);
                   listed.insert(path);
                   json j = model_summary(f.id, f.path);
                   j["loaded"] = is_loaded(loaded, path);
                   data.push_back(std::move(j));
                 }
               }
               for (const auto& cur : loaded) {  // loaded by path from outside the models dirs
                 if (listed.count(canonical_or_same(cur->path))) continue;
                 json j = model_summary(cur->id, cur->path);
                 j["loaded"] = true;
                 data.push_back(std::move(j));
               }
               ex->send_json(status::ok, {{"models", std::move(data)}});
             }));
  router.add(http::verb::delete_, "/api/models/{name}",
             guarded_blocking([&host, registry](const std::shared_ptr<Exchange>& ex) {
               remove_model(ex, host, registry);
             }));
  router.add(http::verb::get, "/api/models/loaded", guarded([&host](const std::shared_ptr<Exchange>& ex) {
               json data = json::array();
               for (const auto& m : host.loaded()) data.push_back(loaded_json(*m));
               ex->send_json(status::ok, {{"models", std::move(data)},
                                          {"loading", host.loading()},
                                          {"loads_started", host.loads_started()},
                                          {"devices", budgets_json(host.budgets(), host.available())},
                                          {"recent", recent_json(host.recent()->summary(unix_ms()))}});
             }));
  router.add(http::verb::post, "/api/models/load",
             guarded([&host](const std::shared_ptr<Exchange>& ex) { load(ex, host); }));
  router.add(http::verb::post, "/api/models/unload", guarded([&host](const std::shared_ptr<Exchange>& ex) {
               // {"model": name} unloads that one; no name unloads every model.
               const json body = ex->request().body().empty() ? json::object() : parse_body(*ex);
               const std::string name = model_field(body);
               ex->set_usage(name, 0);
               if (name.empty()) {
                 json ids = json::array();
                 for (const auto& m : host.loaded()) ids.push_back(m->id);
                 if (ids.empty()) throw ApiError(status::not_found, "no model is loaded", "model");
                 host.unload();
                 ex->send_json(status::ok, {{"unloaded", ids.size() == 1 ? ids[0] : ids}});
                 return;
               }
               auto m = host.find(name);
               if (!m || !host.unload(name))
                 throw ApiError(status::not_found, "model '" + name + "' is not loaded", "model",
                                "invalid_request_error", "model_not_found");
               ex->send_json(status::ok, {{"unloaded", m->id}});
             }));
  router.add(http::verb::post, "/api/models/pin", guarded([&host](const std::shared_ptr<Exchange>& ex) {
               const json body = parse_body(*ex);
               const std::string name = model_field(body);
               if (name.empty()) throw ApiError(status::bad_request, "name the model in 'model'", "model");
               const serving::UseOptions use = use_options_from(body);
               auto m = host.find(name);
               if (!m)
                 throw ApiError(status::not_found, "model '" + name + "' is not loaded", "model",
                                "invalid_request_error", "model_not_found");
               // Not a use: the model's place in the eviction order stays.
               m->pinned = use.pin.value_or(true);
               if (use.keep_alive_ms) m->keep_alive_ms = *use.keep_alive_ms;
               ex->send_json(status::ok, {{"model", loaded_json(*m)}});
             }));
  router.add(http::verb::get, "/api/models/{id}/info",
             guarded_blocking([&host](const std::shared_ptr<Exchange>& ex) {
               // A name, resolved as every route resolves names (registry names, file names, nested pulls);
               // a URL must not reach other paths.
               const auto& id = ex->path_params().at(0);
               if (models::looks_like_path(id))
                 throw ApiError(status::not_found, "no model is named '" + id + "' (names are not paths)",
                                "id", "invalid_request_error", "model_not_found");
               if (auto m = host.find(id)) {
                 ex->send_json(status::ok, model_summary(m->id, m->path));
                 return;
               }
               std::filesystem::path path;
               try {
                 path = host.resolve(id);
               } catch (const Error& e) {
                 if (e.kind() != ErrorKind::NotFound) throw;
                 throw ApiError(status::not_found, e.what(), "id", "invalid_request_error",
                                "model_not_found");
               }
               ex->send_json(status::ok, model_summary(host.id_of(path), path));
             }));
}

}  // namespace rmm::server::native
