#include "server/http_server.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <sstream>

#include "core/error.hpp"
#include "server/session.hpp"

namespace rmm::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(path);
  std::string seg;
  while (std::getline(in, seg, '/')) {
    if (!seg.empty()) out.push_back(seg);
  }
  return out;
}

}  // namespace

void Router::add(http::verb method, const std::string& pattern, Handler handler) {
  routes_.push_back({method, split_path(pattern), std::move(handler)});
}

void Router::add_websocket(const std::string& path, UpgradeHandler handler) {
  websockets_.emplace_back(path, std::move(handler));
}

const UpgradeHandler* Router::websocket(const std::string& path) const {
  for (const auto& [p, h] : websockets_) {
    if (p == path) return &h;
  }
  return nullptr;
}

const Handler* Router::match(http::verb method, const std::string& path, std::vector<std::string>& params,
                             std::string& allowed) const {
  const auto segs = split_path(path);
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    std::vector<std::string> found;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      const auto& p = r.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        found.push_back(segs[i]);
      } else {
        ok = p == segs[i];
      }
    }
    if (!ok) continue;
    if (r.method != method) {
      allowed += (allowed.empty() ? "" : ", ") + std::string(http::to_string(r.method));
      continue;
    }
    params = std::move(found);
    return &r.handler;
  }
  return nullptr;
}

const std::vector<std::string>& Session::cors_origins() const { return server_.options().cors_origins; }

HttpServer::HttpServer(ServerOptions options, Router router)
    : options_(std::move(options)), router_(std::move(router)), acceptor_(io_), stop_timer_(io_) {}

HttpServer::~HttpServer() { blocking_.join(); }

unsigned short HttpServer::listen() {
  boost::system::error_code ec;
  const auto address = net::ip::make_address(options_.host, ec);
  if (ec) throw Error(ErrorKind::InvalidArgument, "--host '" + options_.host + "' is not an IP address");
  const tcp::endpoint ep(address, options_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    // Valid settings, but the address is taken or forbidden: a runtime failure (exit 1).
    throw Error(ErrorKind::Internal, "cannot listen on " + options_.host + ":" +
                                         std::to_string(options_.port) + ": " + ec.message());
  }
  accept();
  return acceptor_.local_endpoint().port();
}

void HttpServer::accept() {
  acceptor_.async_accept(net::make_strand(io_), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) {
      if (!acceptor_.is_open()) return;  // stop() closed it
    } else {
      socket.set_option(tcp::no_delay(true), ec);  // token chunks are small and must go out now
      if (open_connections() >= options_.max_connections) {
        refuse_connection(std::move(socket));
      } else {
        auto s = std::make_shared<Session>(std::move(socket), *this);
        track(s);
        s->start();
      }
    }
    accept();
  });
}

size_t HttpServer::open_connections() {
  std::lock_guard lock(sessions_mutex_);
  std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
  std::erase_if(long_connections_, [](const auto& w) { return w.expired(); });
  return sessions_.size() + long_connections_.size();
}

void HttpServer::refuse_connection(tcp::socket socket) {
  // One short answer, then the socket goes; nothing is read from it.
  static const std::string body =
      R"j({"error":{"message":"too many open connections (--max-connections)","type":"server_error",)j"
      R"j("param":null,"code":"too_many_connections"}})j";
  auto out = std::make_shared<std::string>(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: "
      "close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  auto sock = std::make_shared<tcp::socket>(std::move(socket));
  net::async_write(*sock, net::buffer(*out), [sock, out](boost::system::error_code, size_t) {
    boost::system::error_code ec;
    sock->shutdown(tcp::socket::shutdown_send, ec);
    sock->close(ec);
  });
}

void HttpServer::track(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(sessions_mutex_);
  std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
  sessions_.push_back(s);
}

void HttpServer::track(const std::shared_ptr<LongConnection>& c) {
  if (!c) return;
  std::lock_guard lock(sessions_mutex_);
  std::erase_if(long_connections_, [](const auto& w) { return w.expired(); });
  long_connections_.push_back(c);
}

void HttpServer::run() {
  io_.run();
  // Work still running cannot answer any more; it only has to end before the server does.
  blocking_.join();
}

void HttpServer::wait_for_sessions() {
  bool any = false;
  {
    std::lock_guard lock(sessions_mutex_);
    any = std::any_of(sessions_.begin(), sessions_.end(), [](const auto& w) { return !w.expired(); }) ||
          std::any_of(long_connections_.begin(), long_connections_.end(),
                      [](const auto& w) { return !w.expired(); });
  }
  if (!any || std::chrono::steady_clock::now() >= stop_deadline_) {
    io_.stop();
    return;
  }
  stop_timer_.expires_after(std::chrono::milliseconds(20));
  stop_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) wait_for_sessions();
  });
}

void HttpServer::stop(std::chrono::milliseconds grace) {
  if (stopping_.exchange(true)) return;
  net::post(io_, [this, grace] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    std::vector<std::shared_ptr<Session>> live;
    std::vector<std::shared_ptr<LongConnection>> upgraded;
    {
      std::lock_guard lock(sessions_mutex_);
      for (auto& w : sessions_) {
        if (auto s = w.lock()) live.push_back(std::move(s));
      }
      for (auto& w : long_connections_) {
        if (auto c = w.lock()) upgraded.push_back(std::move(c));
      }
    }
    for (auto& s : live) s->close_when_idle();
    for (auto& c : upgraded) c->going_away();
    live.clear();
    upgraded.clear();
    // Responses in flight get up to `grace` to finish; the loop ends as soon as
    // every connection is closed, or when the grace runs out.
    stop_deadline_ = std::chrono::steady_clock::now() + grace;
    wait_for_sessions();
  });
}

}  // namespace rmm::server
