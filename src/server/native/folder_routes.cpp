#include "server/native/folder_routes.hpp"

#include <algorithm>

#include "models/model_files.hpp"
#include "server/api_error.hpp"
#include "server/query_string.hpp"
#include "server/request_body.hpp"
#include "server/route_guard.hpp"

namespace rmm::server::native {
namespace {

using json = nlohmann::json;
using http::status;

json model_brief(const store::ModelRecord& r) {
  return {{"id", r.short_name}, {"path", r.path}, {"kind", r.kind}, {"size", r.size}};
}

json folder_json(const models::Registry::Folder& f, const std::vector<store::ModelRecord>& all) {
  std::error_code ec;
  const auto models = std::count_if(
      all.begin(), all.end(), [&](const store::ModelRecord& r) { return models::is_inside(r.path, f.path); });
  return {{"path", f.path.string()},
          {"source", f.source},
          {"exists", std::filesystem::is_directory(f.path, ec)},
          {"models", models}};
}

}  // namespace

void add_folder_routes(Router& router, models::Registry& registry) {
  router.add(http::verb::get, "/api/models/folders",
             guarded_blocking([&registry](const std::shared_ptr<Exchange>& ex) {
               registry.scan();
               const auto all = registry.list();
               json out = json::array();
               for (const auto& f : registry.folders()) out.push_back(folder_json(f, all));
               ex->send_json(status::ok, {{"folders", std::move(out)}});
             }));
  router.add(http::verb::post, "/api/models/folders",
             guarded_blocking([&registry](const std::shared_ptr<Exchange>& ex) {
               const json body = parse_body(*ex);
               const auto path = string_field(body, "path");
               if (!path || path->empty())
                 bad_request("path", "give the folder to add in 'path' (an absolute path on the server)");
               auto [folder, found] = registry.add_folder(*path);
               json models = json::array();
               for (const auto& m : found) models.push_back(model_brief(m));
               ex->send_json(status::created,
                             {{"folder", folder_json(folder, found)}, {"models", std::move(models)}});
             }));
  router.add(http::verb::delete_, "/api/models/folders",
             guarded_blocking([&registry](const std::shared_ptr<Exchange>& ex) {
               const auto path = QueryString(ex->request().target()).get("path");
               if (!path || path->empty())
                 bad_request("path",
                             "name the folder to remove in ?path= (as GET /api/models/folders lists it)");
               json forgotten = json::array();
               for (const auto& m : registry.remove_folder(*path)) forgotten.push_back(model_brief(m));
               ex->send_json(status::ok, {{"removed", *path}, {"models_forgotten", std::move(forgotten)}});
             }));
}

}  // namespace rmm::server::native
