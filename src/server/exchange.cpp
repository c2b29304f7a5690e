#include "server/exchange.hpp"

#include <boost/asio/post.hpp>

#include "server/access_guard.hpp"
#include "server/cors.hpp"
#include "server/http_server.hpp"
#include "server/session.hpp"

namespace rmm::server {

Exchange::Exchange(std::shared_ptr<Session> session, Request request)
    : session_(std::move(session)), request_(std::move(request)), started_unix_ms_(unix_ms()) {}

void Exchange::set_usage(const std::string& model, int prompt_tokens) {
  prompt_tokens_ = prompt_tokens;
  std::lock_guard lock(usage_mutex_);
  model_ = model;
}

void Exchange::add_response_header(std::string name, std::string value) {
  response_headers_.emplace_back(std::move(name), std::move(value));
}

std::string Exchange::extra_headers() const {
  std::string out;
  for (const auto& [k, v] : response_headers_) out += k + ": " + v + "\r\n";
  return out;
}

std::string Exchange::path() const {
  const std::string target(request_.target());
  return target.substr(0, target.find('?'));
}

namespace {

std::string cors_headers(const Request& req, const std::vector<std::string>& allowed) {
  const auto it = req.find(http::field::origin);
  if (it == req.end()) return "";
  const std::string origin(it->value());
  if (!origin_allowed(origin, allowed)) return "";
  return "Access-Control-Allow-Origin: " + origin +
         "\r\nVary: Origin\r\nAccess-Control-Allow-Methods: GET, POST, PUT, PATCH, DELETE, OPTIONS"
         "\r\nAccess-Control-Allow-Headers: Content-Type, Authorization, X-API-Key, X-RMM-Conversation"
         "\r\nAccess-Control-Expose-Headers: X-RMM-Conversation, X-RMM-Cache, Retry-After, "
         "x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests, "
         "x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens\r\n";
}

std::string status_line(http::status status) {
  return "HTTP/1.1 " + std::to_string(static_cast<unsigned>(status)) + " " +
         std::string(http::obsolete_reason(status)) + "\r\n";
}

}  // namespace

void Exchange::send(http::status status, const std::string& body, const std::string& content_type,
                    const std::vector<std::pair<std::string, std::string>>& headers) {
  auto self = shared_from_this();
  session_->post([self, status, body, content_type, headers] {
    if (self->finished_.exchange(true)) return;
    self->status_ = static_cast<unsigned>(status);
    std::string out = status_line(status);
    if (!content_type.empty()) out += "Content-Type: " + content_type + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
    out += self->extra_headers();
    out += cors_headers(self->request_, self->session_->cors_origins());
    out += "\r\n" + body;
    self->session_->write_raw(std::move(out));
    self->session_->finish_exchange(*self);
  });
}

void Exchange::send_json(http::status status, const nlohmann::json& body,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
  send(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json",
       headers);
}

void Exchange::send_ordered_json(http::status status, const nlohmann::ordered_json& body,
                                 const std::vector<std::pair<std::string, std::string>>& headers) {
  send(status, body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace),
       "application/json", headers);
}

void Exchange::begin_stream(const std::string& content_type,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
  auto self = shared_from_this();
  session_->post([self, content_type, headers] {
    if (self->finished_ || self->streaming_.exchange(true)) return;
    self->status_ = 200;
    std::string out = status_line(http::status::ok);
    out += "Content-Type: " + content_type + "\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n";
    for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
    out += self->extra_headers();
    out += cors_headers(self->request_, self->session_->cors_origins());
    out += "\r\n";
    self->session_->write_raw(std::move(out));
  });
}

void Exchange::write_chunk(std::string data) {
  if (data.empty()) return;
  auto self = shared_from_this();
  session_->post([self, data = std::move(data)] {
    if (self->finished_) return;
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    self->session_->write_raw(size + data + "\r\n");
  });
}

void Exchange::end_stream() {
  auto self = shared_from_this();
  session_->post([self] {
    if (self->finished_.exchange(true)) return;
    self->session_->write_raw("0\r\n\r\n");
    self->session_->finish_exchange(*self);
  });
}

void Exchange::on_disconnect(std::function<void()> callback) {
  auto self = shared_from_this();
  session_->post([self, callback = std::move(callback)]() mutable {
    self->session_->add_disconnect_callback(std::move(callback));
  });
}

bool Exchange::server_stopping() const { return session_->server().stopping(); }

void Exchange::run_blocking(std::function<void()> work) {
  boost::asio::post(session_->server().blocking_pool(), std::move(work));
}

}  // namespace rmm::server
