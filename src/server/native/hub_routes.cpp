#include "server/native/hub_routes.hpp"

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.hpp"
#include "models/hub/names.hpp"
#include "models/hub/pull.hpp"
#include "server/api_error.hpp"
#include "server/query_string.hpp"
#include "server/request_body.hpp"
#include "server/route_guard.hpp"

namespace rmm::server::native {
namespace {

using json = nlohmann::json;
using status = http::status;

json file_json(const hub::PulledFile& f) {
  return {{"role", f.role},
          {"path", f.path.string()},
          {"size", f.size},
          {"sha256", f.sha256},
          {"sha256_verified", f.verified_sha256},
          {"already_present", f.already_present}};
}

json result_json(const hub::PullResult& r) {
  json files = json::array();
  for (const auto& f : r.files) files.push_back(file_json(f));
  return {{"repo", r.repo},     {"quant", r.quant},      {"revision", r.revision},
          {"commit", r.commit}, {"dir", r.dir.string()}, {"files", std::move(files)}};
}

void sse(const std::shared_ptr<Exchange>& ex, const json& event) {
  ex->write_chunk("data: " + event.dump() + "\n\n");
}

void pull(const std::shared_ptr<Exchange>& ex, const std::filesystem::path& models_dir,
          const hub::HubConfig& cfg) {
  const json body = parse_body(*ex);
  if (!body.contains("model") || !body["model"].is_string())
    throw ApiError(status::bad_request, "name the model to pull in 'model' (OWNER/REPO[:QUANT] or a URL)",
                   "model");
  hub::PullRequest req;
  req.spec = body["model"].get<std::string>();
  req.models_dir = models_dir;
  if (body.contains("revision")) {
    if (!body["revision"].is_string())
      throw ApiError(status::bad_request, "'revision' must be a string", "revision");
    req.revision = body["revision"].get<std::string>();
  }
  const bool stream = !body.contains("stream") || (body["stream"].is_boolean() && body["stream"].get<bool>());
  // Bad names are a 400 now, before any stream begins.
  if (!hub::is_url(req.spec)) hub::parse_repo_ref(req.spec);
  hub::check_revision(req.revision);

  auto stop = std::make_shared<std::atomic<bool>>(false);
  ex->on_disconnect([stop] { *stop = true; });
  if (stream) ex->begin_stream();
  // A pull takes minutes: it runs on its own thread, never on the I/O one.
  std::thread([ex, req, cfg, stream, stop] {
    hub::PullOptions opt;
    opt.hub = cfg;
    opt.keep_going = [stop] { return !stop->load(); };
    if (stream) {
      opt.on_plan = [&](const hub::PullPlan& plan) {
        json files = json::array();
        for (const auto& f : plan.files) files.push_back(file_json(f));
        sse(ex, {{"type", "pull_plan"},
                 {"repo", plan.repo},
                 {"quant", plan.quant},
                 {"dir", plan.dir.string()},
                 {"bytes_to_fetch", plan.bytes_to_fetch},
                 {"files", files}});
      };
      opt.on_file = [&](size_t i, const hub::PulledFile& f) {
        sse(ex, {{"type", "pull_file"}, {"index", i}, {"file", file_json(f)}});
      };
      opt.on_progress = [&](size_t i, const download::Progress& p) {
        sse(ex, {{"type", "pull_progress"},
                 {"index", i},
                 {"done", p.done},
                 {"total", p.total},
                 {"bytes_per_second", p.bytes_per_second},
                 {"eta_seconds", p.eta_seconds}});
      };
    }
    try {
      const auto r = hub::pull(req, opt);
      if (stream) {
        sse(ex, {{"type", "pull_complete"}, {"result", result_json(r)}});
        ex->end_stream();
      } else {
        ex->send_json(status::ok, result_json(r));
      }
    } catch (const Error& e) {
      const json err = api_error_json(e.what(), error_kind_name(e.kind()));
      if (stream) {
        sse(ex, err);
        ex->end_stream();
      } else {
        ex->send_json(status_for(e.kind()), err);
      }
    }
  }).detach();
}

}  // namespace

void add_hub_routes(Router& router, const std::filesystem::path& models_dir) {
  const hub::HubConfig cfg = hub::HubConfig::from_env();
  router.add(http::verb::get, "/api/models/search", guarded([cfg](const std::shared_ptr<Exchange>& ex) {
               const QueryString q(std::string(ex->request().target()));
               const auto query = q.get("q");
               if (!query || query->empty())
                 throw ApiError(status::bad_request, "give the search words in ?q=", "q");
               int limit = 20;
               if (const auto l = q.get("limit")) {
                 try {
                   limit = std::stoi(*l);
                 } catch (const std::exception&) {
                   limit = 0;
                 }
               }
               if (limit < 1 || limit > 1000)
                 throw ApiError(status::bad_request, "limit must be 1 to 1000", "limit");
               // The Hub may be slow: ask it off the I/O thread.
               std::thread([ex, cfg, query = *query, limit] {
                 try {
                   json models = json::array();
                   for (const auto& h : hub::search_models(cfg, query, limit))
                     models.push_back({{"id", h.id},
                                       {"downloads", h.downloads},
                                       {"likes", h.likes},
                                       {"last_modified", h.last_modified}});
                   ex->send_json(status::ok, {{"models", std::move(models)}});
                 } catch (const Error& e) {
                   ex->send_json(status::bad_gateway, api_error_json(e.what(), error_kind_name(e.kind())));
                 }
               }).detach();
             }));
  router.add(http::verb::post, "/api/models/pull",
             guarded([models_dir, cfg](const std::shared_ptr<Exchange>& ex) { pull(ex, models_dir, cfg); }));
}

}  // namespace rmm::server::native
