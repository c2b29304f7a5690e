#pragma once
// One WebSocket connection of the token stream: reads JSON commands, runs
// generations on the engine and streams their tokens back, several at once.
//
// Threading: everything here runs on the connection's strand. Engine callbacks
// (on the engine thread) only serialize their message and post it to the
// strand, so the engine never waits for a socket. One write is in flight at a
// time; a client that reads too slowly for the queue bound is disconnected.
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/exchange.hpp"
#include "server/http_server.hpp"
#include "server/ws/protocol.hpp"
#include "serving/model_host.hpp"

namespace rmm::server::ws {

// Loads one connection may have running at once (each waits on a thread of its own).
inline constexpr size_t kMaxLoadsInFlight = 4;

struct SessionLimits {
  size_t max_message_bytes = kMaxMessageBytes;   // larger messages get an error and are skipped
  size_t hard_message_bytes = 64 * 1024 * 1024;  // larger still: Beast closes the socket (1009)
  size_t max_queue_bytes = 4 * 1024 * 1024;      // unsent replies; past either bound the client is
  size_t max_queue_messages = 10000;             // too slow and is disconnected (1008)
  size_t max_held_bytes = 16 * 1024 * 1024;      // tokens held for paused generations, all together
};

class WsSession : public LongConnection, public std::enable_shared_from_this<WsSession> {
 public:
  // `context`: who opened it (key, address) and the guard that rate limits and audits its generations.
  WsSession(boost::beast::tcp_stream stream, serving::ModelHost& host, UpgradeContext context = {},
            SessionLimits limits = {});
  ~WsSession();
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  // Completes the upgrade `request` asked for, then serves until either side closes.
  void start(Request request);
  // Answers the upgrade request with 403 and closes (an origin that is not allowed).
  void refuse(Request request, const std::string& why);
  // The server is stopping: running generations end, then a 1001 close.
  void going_away() override;

 private:
  struct Generation;
  using Websocket = boost::beast::websocket::stream<boost::beast::tcp_stream>;

  void read_next();
  void on_read(boost::beast::error_code ec, size_t bytes);
  void handle(const std::string& text);
  void handle_load(LoadCommand cmd);
  void handle_generate(GenerateCommand cmd);
  void handle_control(const ControlCommand& cmd);

  // Engine results, arriving on the strand.
  void on_token(const std::shared_ptr<Generation>& g, std::string msg);
  void on_done(const std::shared_ptr<Generation>& g, std::string msg);
  void release(Generation& g);  // sends what a paused generation held, in order

  void send(std::string msg);
  void send_error(const std::string& error_type, const std::string& message, const std::string& id = "");
  void write_next();
  void cancel_generations();
  // Server-side close with a reason; the socket is forced shut if the client does not answer.
  void close(boost::beast::websocket::close_code code, const std::string& reason);
  // The connection is over (read error or closed): stop everything it started.
  void end(const std::string& why);
  void cancel_engine(const Generation& g) const;

  Websocket ws_;
  serving::ModelHost& host_;
  UpgradeContext context_;
  SessionLimits limits_;
  std::string peer_;
  Request upgrade_;
  boost::beast::flat_buffer frame_;
  std::string message_;       // the text message being assembled from frames
  size_t message_bytes_ = 0;  // its full size, counted even while it is skipped
  bool skipping_ = false;     // the message is over the limit: read it to its end, keep nothing
  std::deque<std::string> queue_;
  size_t queue_bytes_ = 0;
  bool writing_ = false;
  bool closing_ = false;  // no more replies; a close handshake may be under way
  bool ended_ = false;
  size_t loads_in_flight_ = 0;  // loads started by this connection and not yet answered
  size_t held_bytes_ = 0;
  std::unordered_map<std::string, std::shared_ptr<Generation>> generations_;
  boost::asio::steady_timer close_timer_;
};

}  // namespace rmm::server::ws
