#include "server/native/access_routes.hpp"

#include "access/key_admin.hpp"
#include "core/config.hpp"
#include "server/access_guard.hpp"
#include "server/api_error.hpp"
#include "server/query_string.hpp"
#include "server/request_body.hpp"
#include "server/route_guard.hpp"

namespace rmm::server::native {
namespace {

using json = nlohmann::json;
using http::status;

}  // namespace

void add_access_routes(Router& router, store::Store& store, access::KeyRing& keys, access::AuditLog* audit) {
  router.add(http::verb::get, "/api/keys", guarded_blocking([&store](const std::shared_ptr<Exchange>& ex) {
               json out = json::array();
               const int64_t now = unix_ms();
               for (const auto& k : store.list_api_keys()) out.push_back(access::key_json(k, now));
               ex->send_json(status::ok, {{"keys", std::move(out)}});
             }));
  router.add(http::verb::post, "/api/keys",
             guarded_blocking([&store, &keys](const std::shared_ptr<Exchange>& ex) {
               const json body = parse_body(*ex);
               const auto created = access::create_key(store, access::key_spec_from_json(body));
               keys.reload();  // in force for the next request
               json out = access::key_json(created.record, unix_ms());
               out["key"] = created.key;  // the only time it is shown
               ex->send_json(status::created, out);
             }));
  router.add(http::verb::delete_, "/api/keys/{name}",
             guarded_blocking([&store, &keys](const std::shared_ptr<Exchange>& ex) {
               const std::string name = percent_decode(ex->path_params().at(0));
               if (!store.revoke_api_key(name, unix_ms()))
                 throw ApiError(status::not_found, "no active API key named '" + name.substr(0, 64) + "'",
                                "name", "invalid_request_error", "not_found");
               keys.reload();
               ex->send_json(status::ok, {{"revoked", name}});
             }));
  router.add(http::verb::get, "/api/audit",
             guarded_blocking([&store, audit](const std::shared_ptr<Exchange>& ex) {
               if (!audit)
                 throw ApiError(status::not_found, "this server keeps no audit log (--no-audit)", "",
                                "invalid_request_error", "not_found");
               const QueryString q(ex->request().target());
               store::AuditQuery query;
               query.since = access::parse_since(q.get("since").value_or(""), unix_ms());
               query.key_name = q.get("key").value_or("");
               query.limit = static_cast<int>(q.integer("limit", 100, 1, 10000));
               query.before_id = q.integer("before", 0, 0, INT64_MAX);
               audit->flush();  // what was requested before this one is listed
               json out = json::array();
               for (const auto& e : store.list_audit(query)) out.push_back(access::audit_json(e));
               ex->send_json(status::ok, {{"entries", std::move(out)}, {"dropped", audit->dropped()}});
             }));
}

}  // namespace rmm::server::native
