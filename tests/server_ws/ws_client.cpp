#include "ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <stdexcept>

namespace rmm::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

beast::error_code WsClient::run(const std::function<void(std::function<void(beast::error_code)>)>& op,
                                std::chrono::milliseconds timeout) {
  beast::error_code result;
  bool done = false, timed_out = false;
  net::steady_timer timer(ioc_, timeout);
  timer.async_wait([&](beast::error_code ec) {
    if (ec || done) return;
    timed_out = true;
    beast::error_code ignored;
    ws_.next_layer().cancel(ignored);
  });
  op([&](beast::error_code ec) {
    result = ec;
    done = true;
    timer.cancel();
  });
  ioc_.restart();
  ioc_.run();
  return timed_out ? beast::error_code(net::error::timed_out) : result;
}

WsClient::WsClient(const std::string& host, int port, Options options) : ws_(ioc_) {
  const tcp::endpoint ep(net::ip::make_address(host), static_cast<unsigned short>(port));
  ws_.next_layer().open(ep.protocol());
  if (options.receive_buffer > 0)
    ws_.next_layer().set_option(net::socket_base::receive_buffer_size(options.receive_buffer));
  ws_.next_layer().connect(ep);
  if (!options.origin.empty() || !options.headers.empty()) {
    ws_.set_option(websocket::stream_base::decorator(
        [origin = options.origin, headers = options.headers](websocket::request_type& req) {
          if (!origin.empty()) req.set(beast::http::field::origin, origin);
          for (const auto& [k, v] : headers) req.set(k, v);
        }));
  }
  websocket::response_type res;
  const auto ec = run(
      [&](auto done) {
        ws_.async_handshake(res, host + ":" + std::to_string(port), options.path,
                            [done](beast::error_code e) { done(e); });
      },
      10s);
  if (ec) {
    throw std::runtime_error("websocket handshake failed: " + ec.message() + " (HTTP " +
                             std::to_string(res.result_int()) + ")");
  }
  protocol_ = std::string(res[beast::http::field::sec_websocket_protocol]);
  ws_.read_message_max(0);
}

void WsClient::send_text(const std::string& text) {
  ws_.text(true);
  const auto ec = run(
      [&](auto done) {
        ws_.async_write(net::buffer(text), [done](beast::error_code e, size_t) { done(e); });
      },
      10s);
  if (ec) throw std::runtime_error("websocket write failed: " + ec.message());
}

void WsClient::send_binary(const std::string& bytes) {
  ws_.binary(true);
  const auto ec = run(
      [&](auto done) {
        ws_.async_write(net::buffer(bytes), [done](beast::error_code e, size_t) { done(e); });
      },
      10s);
  ws_.text(true);
  if (ec) throw std::runtime_error("websocket write failed: " + ec.message());
}

json WsClient::next(std::chrono::milliseconds timeout) {
  buffer_.clear();
  const auto ec = run(
      [&](auto done) { ws_.async_read(buffer_, [done](beast::error_code e, size_t) { done(e); }); }, timeout);
  if (ec == websocket::error::closed) close_code_ = ws_.reason().code;
  if (ec) throw std::runtime_error("websocket read failed: " + ec.message());
  const std::string text = beast::buffers_to_string(buffer_.data());
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error("the server sent a message that is not JSON: " + text);
  return j;
}

std::vector<json> WsClient::until(const std::function<bool(const json&)>& done,
                                  std::chrono::milliseconds timeout) {
  std::vector<json> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) throw std::runtime_error("timed out waiting for a message");
    out.push_back(next(left));
    if (done(out.back())) return out;
  }
}

std::vector<json> WsClient::until_closed(std::chrono::milliseconds timeout) {
  std::vector<json> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) throw std::runtime_error("timed out waiting for the connection to end");
    buffer_.clear();
    const auto ec = run(
        [&](auto done) { ws_.async_read(buffer_, [done](beast::error_code e, size_t) { done(e); }); }, left);
    if (ec == net::error::timed_out) throw std::runtime_error("timed out waiting for the connection to end");
    if (ec == websocket::error::closed) close_code_ = ws_.reason().code;
    if (ec) return out;
    out.push_back(json::parse(beast::buffers_to_string(buffer_.data()), nullptr, false));
  }
}

void WsClient::close() {
  run(
      [&](auto done) {
        ws_.async_close(websocket::close_code::normal, [done](beast::error_code e) { done(e); });
      },
      5s);
}

void WsClient::drop() {
  beast::error_code ec;
  ws_.next_layer().shutdown(tcp::socket::shutdown_both, ec);
  ws_.next_layer().close(ec);
}

std::vector<json> of_type(const std::vector<json>& messages, const std::string& type, const std::string& id) {
  std::vector<json> out;
  for (const auto& m : messages) {
    if (m.value("type", "") == type && (id.empty() || m.value("id", "") == id)) out.push_back(m);
  }
  return out;
}

}  // namespace rmm::test
