#pragma once
// One client connection: reads requests, runs their handlers, writes the
// responses (whole or chunked) in order, and notices when the client leaves.
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "server/exchange.hpp"
#include "server/http_server.hpp"

namespace rmm::server {

class HttpServer;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, HttpServer& server);
  HttpServer& server() { return server_; }
  void start();
  // Runs `fn` on this connection's executor.
  void post(std::function<void()> fn);
  // Closes the connection once the exchange in flight (if any) is done.
  void close_when_idle();

  // Called on the executor by Exchange.
  void write_raw(std::string bytes);
  void finish_exchange(Exchange& ex);
  void add_disconnect_callback(std::function<void()> cb);
  const std::vector<std::string>& cors_origins() const;

 private:
  void read_request();
  void read_header();
  void read_body();
  void on_read(boost::beast::error_code ec);
  // Answers a request refused before its route (an error the client caused), then closes when asked.
  void answer_early(http::status status, const nlohmann::json& body,
                    const std::vector<std::pair<std::string, std::string>>& headers, bool close);
  void upgrade(const UpgradeHandler& handler);
  void dispatch();
  void write_next();
  void watch_for_disconnect();
  void client_gone();
  void shutdown();
  void log_exchange(const Exchange& ex) const;

  boost::beast::tcp_stream stream_;
  HttpServer& server_;
  std::string client_;  // the peer's address
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Exchange> current_;
  std::deque<std::string> writes_;
  size_t pending_bytes_ = 0;  // queued but not yet written
  bool writing_ = false;
  bool closing_ = false;  // close after the current exchange
  bool gone_ = false;     // the client disconnected
  bool keep_alive_ = true;
  std::vector<std::function<void()>> disconnect_callbacks_;
};

}  // namespace rmm::server
