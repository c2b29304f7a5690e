#pragma once
// Route handlers throw; this turns what they throw into error responses of
// one shape for every route: ApiError as given (a 503 also says Retry-After),
// rmm::Error with the status its kind maps to.
#include "server/http_server.hpp"

namespace rmm::server {

Handler guarded(std::function<void(const std::shared_ptr<Exchange>&)> fn);

// As guarded, run on the server's pool for blocking work: for routes that talk
// to the database, so that a slow query (PostgreSQL over a network) never
// holds up the I/O thread and with it every other connection.
Handler guarded_blocking(std::function<void(const std::shared_ptr<Exchange>&)> fn);

}  // namespace rmm::server
