#pragma once
// A minimal HTTP/1.1 client over loopback for the server tests (and the serving
// benchmark's health checks and SSE splitting): plain POSIX sockets, one request
// per connection, bodies framed by Content-Length, chunked transfer coding or
// connection close. It can also read a Server-Sent Events stream event by event
// and hang up in the middle of it. Every read has a deadline, so a stuck server
// fails a test instead of hanging it; errors throw std::runtime_error, which
// GoogleTest reports as a failure.
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmm::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;  // decoded (chunked transfer coding removed)

  // Case-insensitive header lookup; empty when absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  // The body as JSON; throws with the body in the message when it is not JSON.
  nlohmann::json json() const;
};

// An open connection to 127.0.0.1:port.
class HttpConnection {
 public:
  // A small `receive_buffer` (bytes) makes a client that stops reading push back on the server soon.
  explicit HttpConnection(int port, std::chrono::milliseconds timeout = std::chrono::seconds(30),
                          int receive_buffer = 0);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends bytes as they are (a peer that closed early is not an error: the
  // response it sent may still be readable).
  void send_raw(const std::string& bytes);
  // Asks for `Connection: close` unless keep_alive.
  void send_request(const std::string& method, const std::string& target, const std::string& body,
                    const Headers& headers, bool keep_alive = false);
  // Reads the status line and the headers.
  HttpResponse read_head();
  // Appends the next decoded body bytes to `out`; false at the end of the body.
  bool read_body_some(std::string& out);
  // Reads the whole remaining body.
  std::string read_body();
  // True when the server has closed its side (reads return end of file) within the timeout.
  bool wait_closed(std::chrono::milliseconds timeout);
  void close();
  bool is_open() const { return fd_ >= 0; }

 private:
  bool fill();  // reads more raw bytes into buf_; false at end of file

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buf_;  // raw bytes received but not consumed yet
  // Body framing, known after read_head().
  enum class Framing { None, Length, Chunked, UntilClose } framing_ = Framing::None;
  size_t remaining_ = 0;  // bytes left in the body (Length) or in the current chunk (Chunked)
  bool body_done_ = false;
};

// One complete request on a fresh connection.
HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const std::string& body = "", const Headers& headers = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));
HttpResponse http_get(int port, const std::string& target);
HttpResponse http_post_json(int port, const std::string& target, const nlohmann::json& body,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Splits a Server-Sent Events byte stream into events as its bytes arrive,
// keeping every byte. Events are taken out as soon as their blank line is in,
// so a reader can time each event by the arrival of the bytes that completed it.
class SseSplitter {
 public:
  void feed(std::string_view bytes) { raw_.append(bytes); }
  // The next complete event's text without its terminating blank line
  // ("data: {...}"), or nullopt until another one is complete.
  std::optional<std::string> next();
  // Bytes of an event that has not ended yet.
  std::string_view pending() const { return std::string_view(raw_).substr(consumed_); }
  const std::string& raw() const { return raw_; }

 private:
  std::string raw_;
  size_t consumed_ = 0;  // offset in raw_ of the first byte of the next event
};

// A streaming POST whose response body is read as Server-Sent Events.
class SseStream {
 public:
  SseStream(int port, const std::string& target, const nlohmann::json& body,
            std::chrono::milliseconds timeout = std::chrono::seconds(30), int receive_buffer = 0);
  const HttpResponse& head() const { return head_; }
  // The next event's text without its terminating blank line ("data: {...}"),
  // or nullopt when the body ends. Throws if the body ends inside an event.
  std::optional<std::string> next_event();
  // Every decoded body byte read so far, for byte-level framing checks.
  const std::string& raw() const { return events_.raw(); }
  // Hangs up mid-stream.
  void close() { conn_.close(); }
  HttpConnection& connection() { return conn_; }

 private:
  HttpConnection conn_;
  HttpResponse head_;
  SseSplitter events_;
};

}  // namespace rmm::test
