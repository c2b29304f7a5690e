#pragma once
// The HTTP/1.1 server: Boost.Beast over one Asio io_context. Connections are
// asynchronous (hundreds of idle keep-alive clients cost no threads); route
// handlers get an Exchange and may answer later from another thread.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/exchange.hpp"

namespace rmm::server {

class AccessGuard;

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 5000;
  size_t max_body = 8 * 1024 * 1024;
  size_t max_header = 16 * 1024;  // request line and headers; more is a 431
  // Origins allowed to call from a browser besides localhost ones; "*" allows any.
  std::vector<std::string> cors_origins;
  // Slow or idle clients cannot hold a connection: the headers must arrive
  // within header_timeout of the request's first byte, the body within
  // body_timeout after them, and a kept-alive connection may idle for idle_timeout.
  std::chrono::milliseconds header_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds body_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  // Open connections (WebSockets included); more are answered 503 and closed.
  size_t max_connections = 1024;
  // Keys, scopes, rate limits, audit, Host and Origin checks (not owned); null: none.
  AccessGuard* guard = nullptr;
};

using Handler = std::function<void(const std::shared_ptr<Exchange>&)>;

// A connection a route took over (a WebSocket). The server tells it when it
// stops, so that clients get a proper close (1001 going away) rather than a
// dropped socket, and waits for it like for HTTP connections.
class LongConnection {
 public:
  virtual ~LongConnection() = default;
  virtual void going_away() = 0;  // any thread; the connection closes soon after
};

// Who opened a WebSocket: its principal (checked on the upgrade request),
// address, and the guard that rate limits and audits its generations (null: none).
struct UpgradeContext {
  access::Principal principal;
  std::string client;
  AccessGuard* guard = nullptr;
};

// Takes over a connection whose request asks for a WebSocket upgrade on its
// path; returns the connection for the server to track (or null).
using UpgradeHandler = std::function<std::shared_ptr<LongConnection>(
    boost::beast::tcp_stream stream, Request request, UpgradeContext context)>;

// Exact paths, or patterns whose "{name}" segments match one path segment.
class Router {
 public:
  void add(http::verb method, const std::string& pattern, Handler handler);
  void add_websocket(const std::string& path, UpgradeHandler handler);
  const UpgradeHandler* websocket(const std::string& path) const;
  // Finds the handler; `params` gets the {name} segments. `allowed` lists the
  // methods the path has when the method asked is not one (405 rather than 404).
  const Handler* match(http::verb method, const std::string& path, std::vector<std::string>& params,
                       std::string& allowed) const;

 private:
  struct Route {
    http::verb method;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
  std::vector<std::pair<std::string, UpgradeHandler>> websockets_;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Router router);
  ~HttpServer();
  // Binds and listens; returns the port (useful with port 0). Throws rmm::Error.
  unsigned short listen();
  // Serves until stop(); blocks the calling thread.
  void run();
  // Stops accepting, ends idle connections, lets responses in flight finish
  // for up to `grace`, then returns from run(). Safe from any thread.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(1500));

  const ServerOptions& options() const { return options_; }
  const Router& router() const { return router_; }
  // Threads for work that may block (database calls): the I/O thread serves
  // every connection and the engine thread every slot, so neither waits on it.
  boost::asio::thread_pool& blocking_pool() { return blocking_; }
  bool stopping() const { return stopping_.load(); }
  boost::asio::io_context& io() { return io_; }

 private:
  friend class Session;
  void accept();
  void track(const std::shared_ptr<Session>& s);
  void track(const std::shared_ptr<LongConnection>& c);
  void wait_for_sessions();   // polls until every connection is gone or the stop deadline passes
  size_t open_connections();  // HTTP sessions and WebSockets
  void refuse_connection(boost::asio::ip::tcp::socket socket);

  ServerOptions options_;
  Router router_;
  boost::asio::io_context io_;
  boost::asio::thread_pool blocking_{4};  // joined in run(), before the I/O objects go
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  boost::asio::steady_timer stop_timer_;
  std::chrono::steady_clock::time_point stop_deadline_;
  std::mutex sessions_mutex_;
  std::vector<std::weak_ptr<Session>> sessions_;
  std::vector<std::weak_ptr<LongConnection>> long_connections_;
};

}  // namespace rmm::server
