#include "server/session.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <sstream>

#include "core/log.hpp"
#include "server/access_guard.hpp"
#include "server/api_error.hpp"
#include "server/http_server.hpp"

namespace rmm::server {

namespace net = boost::asio;
namespace beast = boost::beast;

Session::Session(net::ip::tcp::socket socket, HttpServer& server)
    : stream_(std::move(socket)), server_(server) {
  beast::error_code ec;
  const auto ep = stream_.socket().remote_endpoint(ec);
  client_ = ec ? "?" : ep.address().to_string();
}

void Session::start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_request(); });
}

void Session::post(std::function<void()> fn) { net::post(stream_.get_executor(), std::move(fn)); }

void Session::close_when_idle() {
  post([self = shared_from_this()] {
    self->closing_ = true;
    if (!self->current_) self->shutdown();
  });
}

void Session::read_request() {
  if (closing_ || server_.stopping()) return shutdown();
  parser_.emplace();
  parser_->body_limit(server_.options().max_body);
  parser_->header_limit(static_cast<uint32_t>(server_.options().max_header));
  if (buffer_.size() > 0) return read_header();  // a pipelined request is already here
  // Idle keep-alive connections are cheap, but not forever: wait for the next request's first byte.
  stream_.expires_after(server_.options().idle_timeout);
  stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
    self->buffer_.commit(n);
    if (ec) return self->on_read(ec);
    self->read_header();
  });
}

void Session::read_header() {
  // From the first byte on, the headers must come whole within header_timeout
  // however slowly they trickle (slowloris), then the body within body_timeout.
  stream_.expires_after(server_.options().header_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (ec) return self->on_read(ec);
                            self->read_body();
                          });
}

void Session::read_body() {
  stream_.expires_after(server_.options().body_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
}

void Session::answer_early(http::status status, const nlohmann::json& body,
                           const std::vector<std::pair<std::string, std::string>>& headers, bool close) {
  if (close) keep_alive_ = false;
  current_ = std::make_shared<Exchange>(
      shared_from_this(), parser_ && parser_->is_header_done() ? Request(parser_->get()) : Request{});
  current_->client_ = client_;
  current_->send_json(status, body, headers);
}

void Session::on_read(beast::error_code ec) {
  stream_.expires_never();
  if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::operation_aborted ||
      ec == beast::error::timeout || ec == net::error::connection_reset) {
    return shutdown();
  }
  if (ec) {
    // The request cannot be read to its end: answer once, then close.
    parser_.reset();  // its request is incomplete: the answer goes without its headers
    if (ec == http::error::body_limit) {
      answer_early(http::status::payload_too_large,
                   api_error_json("request body is larger than the limit of " +
                                      std::to_string(server_.options().max_body) + " bytes (--max-body)",
                                  "invalid_request_error", "", "body_too_large"),
                   {}, true);
    } else if (ec == http::error::header_limit) {
      answer_early(http::status::request_header_fields_too_large,
                   api_error_json("the request's headers are larger than the limit of " +
                                      std::to_string(server_.options().max_header) + " bytes",
                                  "invalid_request_error", "", "headers_too_large"),
                   {}, true);
    } else {
      answer_early(http::status::bad_request,
                   api_error_json("malformed HTTP request: " + ec.message(), "invalid_request_error"), {},
                   true);
    }
    return;
  }
  keep_alive_ = parser_->get().keep_alive();
  if (AccessGuard* guard = server_.options().guard) {
    if (auto r = guard->check_host(parser_->get())) {
      spdlog::warn("{}: refused Host '{}'", client_,
                   std::string(parser_->get()[http::field::host]).substr(0, 255));
      return answer_early(r->status, api_error_json(r->message, r->type, "", r->code), r->headers, true);
    }
  }
  if (boost::beast::websocket::is_upgrade(parser_->get())) {
    const std::string target(parser_->get().target());
    if (const UpgradeHandler* ws = server_.router().websocket(target.substr(0, target.find('?'))))
      return upgrade(*ws);
  }
  current_ = std::make_shared<Exchange>(shared_from_this(), parser_->release());
  current_->client_ = client_;
  dispatch();
}

void Session::upgrade(const UpgradeHandler& handler) {
  UpgradeContext context;
  context.client = client_;
  const std::string target(parser_->get().target());
  if (AccessGuard* guard = server_.options().guard) {
    context.guard = guard;
    if (auto r = guard->admit_upgrade(parser_->get(), client_, context.principal)) {
      spdlog::info("GET {} {} (websocket refused)", target, static_cast<unsigned>(r->status));
      return answer_early(r->status, api_error_json(r->message, r->type, "", r->code), r->headers, true);
    }
  }
  // The WebSocket owns the connection from here; this session ends.
  spdlog::info("GET {} 101 (websocket)", target);
  server_.track(handler(std::move(stream_), parser_->release(), std::move(context)));
}

void Session::dispatch() {
  auto ex = current_;
  watch_for_disconnect();
  std::vector<std::string> params;
  std::string allowed;
  const Request& req = ex->request();
  if (req.method() == http::verb::options) {
    ex->send(http::status::no_content, "", "");
    return;
  }
  const Handler* h = server_.router().match(req.method(), ex->path(), params, allowed);
  if (!h) {
    if (!allowed.empty()) {
      ex->send_json(http::status::method_not_allowed,
                    api_error_json(std::string(req.method_string()) + " is not allowed on " + ex->path() +
                                       " (allowed: " + allowed + ")",
                                   "invalid_request_error"),
                    {{"Allow", allowed}});
    } else {
      // Ollama's clients call these first; say what this server speaks instead of a bare 404.
      static const std::vector<std::string> ollama = {"/api/tags",    "/api/chat",      "/api/generate",
                                                      "/api/version", "/api/show",      "/api/ps",
                                                      "/api/embed",   "/api/embeddings"};
      const bool ollama_route = std::find(ollama.begin(), ollama.end(), ex->path()) != ollama.end();
      const std::string message =
          ollama_route
              ? "no such endpoint: " + ex->path() +
                    " is Ollama's API, which rmm does not serve yet; rmm speaks the OpenAI API at /v1 "
                    "(for example POST /v1/chat/completions) and its own at /api"
              : "no such endpoint: " + ex->path();
      ex->send_json(http::status::not_found,
                    api_error_json(message, "invalid_request_error", "", "not_found"));
    }
    return;
  }
  ex->path_params_ = std::move(params);
  if (AccessGuard* guard = server_.options().guard) {
    if (auto r = guard->admit(*ex, route_access(req.method(), ex->path()))) {
      ex->send_json(r->status, api_error_json(r->message, r->type, "", r->code), r->headers);
      return;
    }
  }
  try {
    (*h)(ex);
  } catch (const std::exception& e) {
    if (!ex->finished()) {
      ex->send_json(http::status::internal_server_error, api_error_json(e.what(), "server_error"));
    }
  }
}

void Session::watch_for_disconnect() {
  // While a handler works, a readable socket with nothing to read means the
  // client closed it; data means a pipelined request, which waits its turn.
  stream_.socket().async_wait(
      net::ip::tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
        if (ec || !self->current_ || self->gone_) return;
        char byte;
        const ssize_t n = ::recv(self->stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) self->client_gone();
      });
}

void Session::client_gone() {
  if (gone_) return;
  gone_ = true;
  auto callbacks = std::move(disconnect_callbacks_);
  disconnect_callbacks_.clear();
  for (auto& cb : callbacks) cb();
  if (current_) {
    current_->status_ = 499;  // client closed request (nginx's code), for the log
    current_->finished_ = true;
    log_exchange(*current_);
    current_.reset();
  }
  shutdown();
}

void Session::add_disconnect_callback(std::function<void()> cb) {
  if (gone_) {
    cb();
    return;
  }
  disconnect_callbacks_.push_back(std::move(cb));
}

void Session::write_raw(std::string bytes) {
  if (gone_) return;
  // A client that stops reading a stream must not grow this queue forever (nor
  // hold its slot): past the bound it is treated as gone, which cancels its work.
  constexpr size_t kMaxPending = 8 * 1024 * 1024;
  pending_bytes_ += bytes.size();
  if (pending_bytes_ > kMaxPending) {
    spdlog::warn("closing a connection that stopped reading ({} bytes unsent)", pending_bytes_);
    // The write in flight (if any) still uses its buffer: keep it until its handler runs.
    while (writes_.size() > (writing_ ? 1u : 0u)) writes_.pop_back();
    client_gone();
    beast::error_code ec;
    stream_.socket().close(ec);  // a stuck write completes now, with operation_aborted
    return;
  }
  writes_.push_back(std::move(bytes));
  if (!writing_) write_next();
}

void Session::write_next() {
  if (writes_.empty()) {
    writing_ = false;
    if (!current_ && (closing_ || !keep_alive_)) shutdown();
    return;
  }
  writing_ = true;
  net::async_write(stream_, net::buffer(writes_.front()),
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     self->pending_bytes_ -= std::min(self->pending_bytes_, self->writes_.front().size());
                     self->writes_.pop_front();
                     if (ec) {
                       self->writes_.clear();
                       self->writing_ = false;
                       self->client_gone();
                       return;
                     }
                     self->write_next();
                   });
}

void Session::finish_exchange(Exchange& ex) {
  if (current_.get() != &ex) return;
  log_exchange(ex);
  current_.reset();
  disconnect_callbacks_.clear();  // the disconnect watch still pending sees no exchange and does nothing
  if (!keep_alive_ || closing_ || server_.stopping()) {
    closing_ = true;
    if (!writing_) shutdown();
    return;
  }
  read_request();
}

void Session::shutdown() {
  if (!stream_.socket().is_open()) return;
  if (writing_) {
    closing_ = true;  // write_next closes once the queue is empty
    return;
  }
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

void Session::log_exchange(const Exchange& ex) const {
  if (ex.guard_) ex.guard_->finished(ex);
  const auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - ex.started_).count();
  spdlog::info("{} {} {} {:.1f}ms {} tokens", std::string(ex.request().method_string()), ex.path(),
               ex.status_.load(), ms, ex.tokens_.load());
}

}  // namespace rmm::server
