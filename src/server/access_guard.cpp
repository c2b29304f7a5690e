#include "server/access_guard.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>

#include "core/log.hpp"
#include "server/cors.hpp"

namespace rmm::server {

using access::Scope;

namespace {

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The host part of a Host header: without the port, IPv6 brackets kept off.
std::string host_name(const std::string& header) {
  if (!header.empty() && header.front() == '[') {
    const auto end = header.find(']');
    return end == std::string::npos ? header : header.substr(1, end - 1);
  }
  return lower(header.substr(0, header.rfind(':') == std::string::npos ? header.size() : header.rfind(':')));
}

std::string header(const Request& req, std::string_view name) {
  const auto it = req.find(boost::beast::string_view(name.data(), name.size()));
  return it == req.end() ? std::string() : std::string(it->value());
}

}  // namespace

bool loopback_host(const std::string& host_header) {
  const std::string host = host_name(host_header);
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(host, ec);
  return !ec && addr.is_loopback();
}

RouteAccess route_access(http::verb method, const std::string& path) {
  using http::verb;
  RouteAccess r;
  const bool get = method == verb::get || method == verb::head;
  if (method == verb::options ||
      (get && (path == "/health" || path == "/api/system/health" || path == "/" || path == "/index.html" ||
               path == "/favicon.svg" || starts_with(path, "/assets/")))) {
    r.open = true;
    return r;
  }
  if (starts_with(path, "/v1/")) {
    r.scope = get ? Scope::Read : Scope::Generate;  // GET /v1/models; POST generates
    r.generation = r.audited = !get;
    return r;
  }
  if (path == "/api/ws") {
    r.scope = Scope::Generate;  // each generation over it is rate limited and audited on its own
    return r;
  }
  if (path == "/api/prompts/run") {
    r.scope = Scope::Generate;
    r.generation = r.audited = true;
    return r;
  }
  // Tokenizing names a model (its key's patterns apply) but generates nothing.
  if (path == "/tokenize" || path == "/detokenize" || path == "/api/tokenize" || path == "/api/detokenize") {
    r.scope = Scope::Generate;
    return r;
  }
  if (starts_with(path, "/api/chat/")) {  // a key's own history
    r.scope = Scope::Generate;
    return r;
  }
  if (starts_with(path,
                  "/api/prompts/")) {  // templates: reading them and rendering is read; saving is generate
    r.scope = get || path == "/api/prompts/build" ? Scope::Read : Scope::Generate;
    return r;
  }
  if (get && (starts_with(path, "/api/models") || starts_with(path, "/api/system/"))) {
    r.scope = Scope::Read;
    return r;
  }
  // Everything else (load, unload, pin, pull, delete, keys, cache, audit, and
  // any route without a rule above) is admin; every admin action is audited.
  r.scope = Scope::Admin;
  r.audited = !get;
  return r;
}

AccessGuard::AccessGuard(AccessSettings settings, access::KeyRing* keys, access::RateLimiter* limiter,
                         access::AuditLog* audit)
    : settings_(std::move(settings)), keys_(keys), limiter_(limiter), audit_(audit) {}

std::optional<Refusal> AccessGuard::check_host(const Request& req) const {
  if (!settings_.check_host) return std::nullopt;
  // Every Host field counts (a request with two must not pass on the first alone); none at all is
  // an HTTP/1.0 client, browsers always send one.
  auto allowed = [this](const std::string& host) {
    if (loopback_host(host)) return true;
    const std::string name = host_name(host);
    return std::any_of(settings_.allowed_hosts.begin(), settings_.allowed_hosts.end(),
                       [&](const std::string& a) { return lower(a) == name; });
  };
  std::optional<std::string> refused;
  const auto [first, last] = req.equal_range(http::field::host);
  for (auto it = first; it != last && !refused; ++it) {
    if (!allowed(std::string(it->value()))) refused = std::string(it->value());
  }
  if (!refused) return std::nullopt;
  const std::string& host = *refused;
  return Refusal{http::status::forbidden,
                 "Host '" + host.substr(0, 255) +
                     "' is not this server: a server on a loopback address answers only to localhost, "
                     "127.0.0.1 and [::1] (allow another name with --allowed-host)",
                 "permission_error",
                 "host_not_allowed",
                 {}};
}

std::optional<std::string> AccessGuard::presented_key(const Request& req) const {
  const std::string auth = header(req, "Authorization");
  if (!auth.empty()) {
    if (auth.size() > 7 && lower(auth.substr(0, 7)) == "bearer ") {
      std::string key = auth.substr(7);
      while (!key.empty() && key.front() == ' ') key.erase(0, 1);
      return key;
    }
    return std::string();  // present but not a bearer token: an invalid key, not a missing one
  }
  const std::string x = header(req, "x-api-key");
  if (!x.empty()) return x;
  // Browsers cannot set headers on a WebSocket, but they can offer subprotocols.
  for (const auto& p : offered_subprotocols(req)) {
    if (starts_with(p, kWsKeyProtocolPrefix)) return p.substr(kWsKeyProtocolPrefix.size());
  }
  return std::nullopt;
}

std::vector<std::string> offered_subprotocols(const Request& req) {
  std::vector<std::string> out;
  const std::string offered = header(req, "Sec-WebSocket-Protocol");
  size_t pos = 0;
  while (pos < offered.size()) {
    size_t end = offered.find(',', pos);
    if (end == std::string::npos) end = offered.size();
    const size_t first = offered.find_first_not_of(' ', pos);
    const size_t last = offered.find_last_not_of(' ', end - 1);
    if (first < end && last != std::string::npos && last >= first)
      out.push_back(offered.substr(first, last - first + 1));
    pos = end + 1;
  }
  return out;
}

namespace {

Refusal scope_refusal(const access::Principal& p, const std::string& what, Scope needed) {
  return Refusal{http::status::forbidden,
                 "the key '" + p.key_name + "' has scope '" + scope_name(p.scope) + "'; " + what +
                     " needs '" + scope_name(needed) + "'",
                 "permission_error",
                 "insufficient_scope",
                 {}};
}

}  // namespace

std::optional<Refusal> AccessGuard::admit_upgrade(const Request& req, const std::string& client,
                                                  access::Principal& out) const {
  if (auto r = authenticate(req, client, out)) return r;
  const Scope needed = route_access(http::verb::get, "/api/ws").scope;
  if (!out.allows(needed)) return scope_refusal(out, "the WebSocket", needed);
  return std::nullopt;
}

std::optional<Refusal> AccessGuard::authenticate(const Request& req, const std::string& client,
                                                 access::Principal& out) const {
  const bool keys_on = keys_ && keys_->enabled();
  if (!keys_on && !settings_.keys_required) {
    out = access::Principal{};
    out.limits = settings_.client_limits;
    out.bucket = "addr:" + client;
    return std::nullopt;
  }
  const auto key = presented_key(req);
  if (!key) {
    return Refusal{
        http::status::unauthorized,
        keys_on ? "this server needs an API key: send it as 'Authorization: Bearer KEY' (or x-api-key)"
                : "this server needs an API key and has none yet: create one with 'rmm keys create NAME'",
        "invalid_request_error",
        "missing_api_key",
        {{"WWW-Authenticate", "Bearer realm=\"rmm\""}}};
  }
  auto p = keys_on && !key->empty() ? keys_->authenticate(*key) : std::nullopt;
  if (!p) {
    // The key is never echoed: it may be a real one for something else.
    return Refusal{http::status::unauthorized,
                   "the API key is not valid (unknown, revoked or expired)",
                   "invalid_request_error",
                   "invalid_api_key",
                   {{"WWW-Authenticate", "Bearer realm=\"rmm\""}}};
  }
  out = std::move(*p);
  return std::nullopt;
}

std::optional<Refusal> AccessGuard::admit(Exchange& ex, const RouteAccess& route) {
  const Request& req = ex.request();
  const auto method = req.method();
  // Refused requests to audited routes are audited too (a 401 or 403 on an admin route is worth
  // knowing about); only an admitted generation counts as a stream.
  ex.guard_ = this;
  ex.audited_ = route.audited;
  ex.generation_ = false;
  const bool changes_state = method == http::verb::post || method == http::verb::put ||
                             method == http::verb::patch || method == http::verb::delete_;
  if (changes_state) {
    const std::string origin = header(req, "Origin");
    if (!origin.empty() && !origin_allowed(origin, settings_.cors_origins)) {
      return Refusal{http::status::forbidden,
                     "a page from origin '" + origin.substr(0, 255) +
                         "' may not change this server (allow it with --cors-origin)",
                     "permission_error",
                     "origin_not_allowed",
                     {}};
    }
    // A POST is a CORS "simple request" unless it is JSON or carries a custom
    // header: a browser sends those from any page without asking first.
    const std::string type = lower(header(req, "Content-Type"));
    const bool json = starts_with(type, "application/json");
    const bool custom = !header(req, "Authorization").empty() || !header(req, "x-api-key").empty() ||
                        !header(req, "X-RMM-Request").empty();
    if (method == http::verb::post && !json && !custom) {
      return Refusal{
          http::status::unsupported_media_type,
          "a POST must be JSON ('Content-Type: application/json'), even with an empty body, or carry "
          "the header 'X-RMM-Request: 1'",
          "invalid_request_error",
          "unsupported_media_type",
          {}};
    }
  }
  if (!route.open) {
    if (auto r = authenticate(req, ex.client_, ex.principal_)) return r;
    if (!ex.principal_.allows(route.scope))
      return scope_refusal(ex.principal_, std::string(http::to_string(method)) + " " + ex.path(),
                           route.scope);
    if (limiter_) {
      auto d = limiter_->admit(ex.principal_, route.generation);
      if (!d.allowed) {
        d.headers.emplace_back("Retry-After", std::to_string(d.retry_after_s));
        return Refusal{http::status::too_many_requests, "rate limit reached: " + d.why, "rate_limit_error",
                       "rate_limit_exceeded", std::move(d.headers)};
      }
      for (auto& [k, v] : d.headers) ex.add_response_header(std::move(k), std::move(v));
    }
  }
  ex.generation_ = route.generation;
  return std::nullopt;
}

void AccessGuard::finished(const Exchange& ex) {
  const int prompt = ex.prompt_tokens_.load();
  const int completion = ex.tokens_.load();
  if (limiter_) {
    limiter_->charge_tokens(ex.principal_, prompt + completion);
    if (ex.generation_) limiter_->end_stream(ex.principal_);
  }
  if (!audit_ || !ex.audited_) return;
  store::AuditEntry e;
  e.time = ex.started_unix_ms_;
  e.key_name = ex.principal_.key_name;
  e.client = ex.client_;
  e.method = std::string(ex.request().method_string());
  e.route = ex.path().substr(0, 512);
  {
    std::lock_guard lock(ex.usage_mutex_);
    e.model = ex.model_;
  }
  e.status = static_cast<int>(ex.status_.load());
  e.prompt_tokens = prompt;
  e.completion_tokens = completion;
  e.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - ex.started_)
          .count();
  audit_->record(std::move(e));
}

std::optional<Refusal> AccessGuard::admit_generation(const access::Principal& p) {
  if (!limiter_) return std::nullopt;
  auto d = limiter_->admit(p, true);
  if (d.allowed) return std::nullopt;
  d.headers.emplace_back("Retry-After", std::to_string(d.retry_after_s));
  return Refusal{http::status::too_many_requests, "rate limit reached: " + d.why, "rate_limit_error",
                 "rate_limit_exceeded", std::move(d.headers)};
}

void AccessGuard::generation_done(const access::Principal& p, store::AuditEntry entry) {
  if (limiter_) {
    limiter_->charge_tokens(p, entry.prompt_tokens + entry.completion_tokens);
    limiter_->end_stream(p);
  }
  if (!audit_) return;
  entry.key_name = p.key_name;
  audit_->record(std::move(entry));
}

void check_model_access(const access::Principal& p, const serving::ModelHost& host,
                        const std::filesystem::path& path) {
  if (p.models.empty()) return;
  const auto names = host.names_of(path);
  if (!p.may_use_model(names))
    throw Error(ErrorKind::Forbidden,
                "the key '" + p.key_name + "' may not use model '" + names.front() + "'");
}

void check_model_access(const access::Principal& p, const serving::ModelHost& host,
                        const std::string& requested) {
  auto m = requested.empty() ? nullptr : host.find(requested);
  check_model_access(p, host, m ? m->path : host.resolve(requested));
}

}  // namespace rmm::server
