#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace rmm::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("http client: " + what); }

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  const std::string want = lower(name);
  for (const auto& [k, v] : headers) {
    if (lower(k) == want) return v;
  }
  return "";
}

bool HttpResponse::has_header(std::string_view name) const {
  const std::string want = lower(name);
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return lower(h.first) == want; });
}

nlohmann::json HttpResponse::json() const {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("response body (status " + std::to_string(status) +
                             ") is not JSON: " + e.what() + "\n" + body.substr(0, 2000));
  }
}

HttpConnection::HttpConnection(int port, std::chrono::milliseconds timeout, int receive_buffer)
    : timeout_(timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) fail(std::string("socket: ") + std::strerror(errno));
  if (receive_buffer > 0) {  // before connect, so the advertised window is small from the start
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    close();
    fail("connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(err));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

HttpConnection::~HttpConnection() { close(); }

void HttpConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void HttpConnection::send_raw(const std::string& bytes) {
  if (fd_ < 0) fail("send on a closed connection");
  const auto deadline = Clock::now() + timeout_;
  size_t sent = 0;
  while (sent < bytes.size()) {
    pollfd p{fd_, POLLOUT, 0};
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) fail("timed out sending the request");
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == EPIPE || errno == ECONNRESET) return;  // the server answered early and closed
      fail(std::string("send: ") + std::strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
}

void HttpConnection::send_request(const std::string& method, const std::string& target,
                                  const std::string& body, const Headers& headers, bool keep_alive) {
  bool has_host = false;
  for (const auto& [k, v] : headers) has_host = has_host || strcasecmp(k.c_str(), "host") == 0;
  std::string req = method + " " + target + " HTTP/1.1\r\n" + (has_host ? "" : "Host: 127.0.0.1\r\n");
  if (!keep_alive) req += "Connection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n";
  req += body;
  send_raw(req);
}

bool HttpConnection::fill() {
  if (fd_ < 0) return false;
  const auto deadline = Clock::now() + timeout_;
  char tmp[65536];
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) fail("timed out after " + std::to_string(timeout_.count()) + " ms waiting for the server");
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) return false;
      fail(std::string("recv: ") + std::strerror(errno));
    }
    if (n == 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
}

HttpResponse HttpConnection::read_head() {
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) fail("connection closed before the response head; got: " + buf_.substr(0, 500));
  }
  const std::string head = buf_.substr(0, end + 2);
  buf_.erase(0, end + 4);

  HttpResponse res;
  size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12)
    fail("bad status line: " + status_line);
  res.status = std::stoi(status_line.substr(9, 3));
  size_t pos = line_end + 2;
  while (pos < head.size()) {
    const size_t e = head.find("\r\n", pos);
    const std::string line = head.substr(pos, e - pos);
    pos = e + 2;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) fail("bad header line: " + line);
    res.headers.emplace_back(line.substr(0, colon), trim(std::string_view(line).substr(colon + 1)));
  }

  body_done_ = false;
  if (res.status == 204 || res.status == 304 || res.status / 100 == 1) {
    framing_ = Framing::None;
    body_done_ = true;
  } else if (lower(res.header("Transfer-Encoding")).find("chunked") != std::string::npos) {
    framing_ = Framing::Chunked;
    remaining_ = 0;
  } else if (res.has_header("Content-Length")) {
    framing_ = Framing::Length;
    remaining_ = std::stoull(res.header("Content-Length"));
    body_done_ = remaining_ == 0;
  } else {
    framing_ = Framing::UntilClose;
  }
  return res;
}

bool HttpConnection::read_body_some(std::string& out) {
  if (body_done_) return false;
  switch (framing_) {
    case Framing::None: body_done_ = true; return false;
    case Framing::Length: {
      if (buf_.empty() && !fill())
        fail("connection closed with " + std::to_string(remaining_) + " body bytes missing");
      const size_t n = std::min(remaining_, buf_.size());
      out.append(buf_, 0, n);
      buf_.erase(0, n);
      remaining_ -= n;
      body_done_ = remaining_ == 0;
      return true;
    }
    case Framing::UntilClose:
      if (buf_.empty() && !fill()) {
        body_done_ = true;
        return false;
      }
      out += buf_;
      buf_.clear();
      return true;
    case Framing::Chunked: break;
  }
  // Chunked: at a chunk boundary, read the size line (and the trailers after the last chunk).
  if (remaining_ == 0) {
    size_t eol;
    while ((eol = buf_.find("\r\n")) == std::string::npos) {
      if (!fill()) fail("connection closed inside a chunk size line");
    }
    const std::string size_line = buf_.substr(0, eol);
    buf_.erase(0, eol + 2);
    size_t size = 0;
    try {
      size = std::stoull(size_line, nullptr, 16);
    } catch (const std::exception&) {
      fail("bad chunk size line: " + size_line);
    }
    if (size == 0) {
      for (;;) {  // trailers, then the blank line
        while ((eol = buf_.find("\r\n")) == std::string::npos) {
          if (!fill()) fail("connection closed inside the chunked trailer");
        }
        const bool blank = eol == 0;
        buf_.erase(0, eol + 2);
        if (blank) break;
      }
      body_done_ = true;
      return false;
    }
    remaining_ = size;
  }
  if (buf_.empty() && !fill()) fail("connection closed inside a chunk");
  const size_t n = std::min(remaining_, buf_.size());
  out.append(buf_, 0, n);
  buf_.erase(0, n);
  remaining_ -= n;
  if (remaining_ == 0) {  // the CRLF that ends the chunk data
    while (buf_.size() < 2) {
      if (!fill()) fail("connection closed after chunk data");
    }
    if (buf_.compare(0, 2, "\r\n") != 0) fail("chunk data not followed by CRLF");
    buf_.erase(0, 2);
  }
  return true;
}

std::string HttpConnection::read_body() {
  std::string out;
  while (read_body_some(out)) {
  }
  return out;
}

bool HttpConnection::wait_closed(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return true;
  const auto deadline = Clock::now() + timeout;
  char tmp[65536];
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return false;
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    if (n < 0 && errno != EINTR && errno != EAGAIN) fail(std::string("recv: ") + std::strerror(errno));
  }
}

HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const std::string& body, const Headers& headers,
                          std::chrono::milliseconds timeout) {
  HttpConnection conn(port, timeout);
  conn.send_request(method, target, body, headers);
  HttpResponse res = conn.read_head();
  res.body = conn.read_body();
  return res;
}

HttpResponse http_get(int port, const std::string& target) { return http_request(port, "GET", target); }

HttpResponse http_post_json(int port, const std::string& target, const nlohmann::json& body,
                            std::chrono::milliseconds timeout) {
  return http_request(port, "POST", target, body.dump(), {{"Content-Type", "application/json"}}, timeout);
}

SseStream::SseStream(int port, const std::string& target, const nlohmann::json& body,
                     std::chrono::milliseconds timeout, int receive_buffer)
    : conn_(port, timeout, receive_buffer) {
  conn_.send_request("POST", target, body.dump(),
                     {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}});
  head_ = conn_.read_head();
}

std::optional<std::string> SseSplitter::next() {
  const size_t end = raw_.find("\n\n", consumed_);
  if (end == std::string::npos) return std::nullopt;
  std::string event = raw_.substr(consumed_, end - consumed_);
  consumed_ = end + 2;
  return event;
}

std::optional<std::string> SseStream::next_event() {
  for (;;) {
    if (auto event = events_.next()) return event;
    std::string more;
    if (!conn_.is_open() || !conn_.read_body_some(more)) {
      if (events_.pending().empty()) return std::nullopt;
      throw std::runtime_error("event stream ended inside an event: " +
                               std::string(events_.pending().substr(0, 500)));
    }
    events_.feed(more);
  }
}

}  // namespace rmm::test
