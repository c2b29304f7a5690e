#pragma once
// Who may do what, applied to every request before its route runs:
// - DNS rebinding: on a loopback bind, a Host that is not a loopback name or
//   an --allowed-host is refused (a page on attacker.example that resolves to
//   127.0.0.1 must not read the API).
// - Requests a foreign web page could send without a CORS preflight: a
//   state-changing request from a foreign Origin, or a POST that is neither
//   JSON nor carries a custom header, is refused.
// - API keys and scopes (read < generate < admin; the table in the .cpp says
//   which route needs which), rate limits, and the audit log.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "access/audit_log.hpp"
#include "access/key_ring.hpp"
#include "access/principal.hpp"
#include "access/rate_limiter.hpp"
#include "core/clock.hpp"
#include "server/exchange.hpp"
#include "serving/model_host.hpp"

namespace rmm::server {

struct AccessSettings {
  bool check_host = true;                  // a loopback bind: refuse other Host names
  std::vector<std::string> allowed_hosts;  // more Host names to accept (--allowed-host)
  // Keys are needed even while none is active (a network bind): every
  // request but the open ones is refused until a key exists.
  bool keys_required = false;
  access::Limits client_limits;  // per client address, when the server runs without keys
  std::vector<std::string> cors_origins;
};

// What a route needs.
struct RouteAccess {
  bool open = false;  // no key needed (health checks, CORS preflight)
  access::Scope scope = access::Scope::Admin;
  bool generation = false;  // runs a generation: counts as a stream, charged tokens, audited
  bool audited = false;     // written to the audit log
};
// Unknown routes need admin: a route added without a rule fails closed.
RouteAccess route_access(http::verb method, const std::string& path);

struct Refusal {
  http::status status;
  std::string message;
  std::string type;  // OpenAI's error type
  std::string code;
  access::Headers headers;
};

class AccessGuard {
 public:
  // Any of keys, limiter and audit may be null (that part is off).
  AccessGuard(AccessSettings settings, access::KeyRing* keys, access::RateLimiter* limiter,
              access::AuditLog* audit);

  // The Host check, for every request and WebSocket upgrade.
  std::optional<Refusal> check_host(const Request& req) const;
  // The preflight-free request check, key, scope and rate limit of a routed
  // request. On success the exchange carries its principal and the rate limit headers.
  std::optional<Refusal> admit(Exchange& ex, const RouteAccess& route);
  // Once the response is complete (or the client left): tokens, streams, audit.
  void finished(const Exchange& ex);

  // The WebSocket: the principal of its upgrade request (a key in
  // Authorization, x-api-key or the Sec-WebSocket-Protocol entry "rmm-key.KEY").
  std::optional<Refusal> authenticate(const Request& req, const std::string& client,
                                      access::Principal& out) const;
  // authenticate() plus the scope the WebSocket needs: what its upgrade request is checked with.
  std::optional<Refusal> admit_upgrade(const Request& req, const std::string& client,
                                       access::Principal& out) const;
  // One generation over the WebSocket: its rate limit, then its end.
  std::optional<Refusal> admit_generation(const access::Principal& p);
  void generation_done(const access::Principal& p, store::AuditEntry entry);

 private:
  std::optional<std::string> presented_key(const Request& req) const;

  AccessSettings settings_;
  access::KeyRing* keys_;
  access::RateLimiter* limiter_;
  access::AuditLog* audit_;
};

// The key offered as a WebSocket subprotocol ("rmm-key.KEY"), and whether the
// client offered "rmm" (the protocol the server answers with).
inline constexpr std::string_view kWsKeyProtocolPrefix = "rmm-key.";
inline constexpr std::string_view kWsProtocol = "rmm";
// The Sec-WebSocket-Protocol values a request offers, trimmed, in order.
std::vector<std::string> offered_subprotocols(const Request& req);

// Whether a Host header value names this machine: localhost, 127.0.0.0/8 or
// [::1], with any port.
bool loopback_host(const std::string& host_header);

// Throws rmm::Error(Forbidden) when the principal's key may not use the model
// at `path` (its patterns match none of the model's names).
void check_model_access(const access::Principal& p, const serving::ModelHost& host,
                        const std::filesystem::path& path);
// The same for a name from a request, resolved as acquire() resolves it (a
// loaded model first): throws NotFound for a name that resolves to nothing
// and Forbidden for a path outside the models folders, so a route can answer
// those before it starts a load.
void check_model_access(const access::Principal& p, const serving::ModelHost& host,
                        const std::string& requested);

}  // namespace rmm::server
