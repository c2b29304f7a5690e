#pragma once
// /api/keys (list, create, revoke) and /api/audit: the admin side of API
// keys and the audit log. The access guard gives these routes admin scope.
#include "access/audit_log.hpp"
#include "access/key_ring.hpp"
#include "server/http_server.hpp"
#include "store/store.hpp"

namespace rmm::server::native {

// `audit` may be null (the server keeps no audit log: /api/audit says so).
void add_access_routes(Router& router, store::Store& store, access::KeyRing& keys, access::AuditLog* audit);

}  // namespace rmm::server::native
