#pragma once
// A small blocking WebSocket client for the tests (Boost.Beast): every call
// has a deadline, so a server that hangs fails the test instead of blocking it.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace rmm::test {

using nlohmann::json;
using namespace std::chrono_literals;

class WsClient {
 public:
  struct Options {
    std::string path = "/api/ws";
    std::string origin;      // sent as Origin when not empty
    int receive_buffer = 0;  // SO_RCVBUF before connecting (0: the system's)
    std::vector<std::pair<std::string, std::string>> headers;  // more upgrade request headers
  };
  // Connects and completes the handshake; throws std::runtime_error naming the failure.
  WsClient(const std::string& host, int port, Options options);
  WsClient(const std::string& host, int port) : WsClient(host, port, Options{}) {}

  void send(const json& message) { send_text(message.dump()); }
  void send_text(const std::string& text);
  void send_binary(const std::string& bytes);
  // The next message, parsed; throws std::runtime_error on timeout, close or bad JSON.
  json next(std::chrono::milliseconds timeout = 10s);
  // Reads until `done` holds for a message; returns every message read, that one last.
  std::vector<json> until(const std::function<bool(const json&)>& done,
                          std::chrono::milliseconds timeout = 10s);
  // Reads until the connection ends (close frame or socket error); returns the messages read before.
  std::vector<json> until_closed(std::chrono::milliseconds timeout = 10s);
  // The close code the server sent (0 if none).
  int close_code() const { return close_code_; }
  // The handshake response's Sec-WebSocket-Protocol ("" when none).
  const std::string& protocol() const { return protocol_; }
  // A close handshake, or just the TCP connection dropped.
  void close();
  void drop();

 private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
  boost::beast::flat_buffer buffer_;
  int close_code_ = 0;
  std::string protocol_;
  boost::beast::error_code run(const std::function<void(std::function<void(boost::beast::error_code)>)>& op,
                               std::chrono::milliseconds timeout);
};

// Messages of one kind (and one generation id, when given).
std::vector<json> of_type(const std::vector<json>& messages, const std::string& type,
                          const std::string& id = "");

}  // namespace rmm::test
