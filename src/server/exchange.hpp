#pragma once
// One HTTP request and its response, handed to a route handler. Every method
// may be called from any thread (the engine thread streams tokens through it);
// the work is posted to the connection's executor.
#include <atomic>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "access/principal.hpp"

namespace rmm::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;

class Session;
class AccessGuard;

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<Session> session, Request request);

  const Request& request() const { return request_; }
  std::string path() const;  // the target without its query string
  // The {name} segments of the route pattern, in order.
  const std::vector<std::string>& path_params() const { return path_params_; }

  // A complete response. Ends the exchange.
  void send(http::status status, const std::string& body,
            const std::string& content_type = "application/json",
            const std::vector<std::pair<std::string, std::string>>& headers = {});
  void send_json(http::status status, const nlohmann::json& body,
                 const std::vector<std::pair<std::string, std::string>>& headers = {});
  void send_ordered_json(http::status status, const nlohmann::ordered_json& body,
                         const std::vector<std::pair<std::string, std::string>>& headers = {});

  // A streamed (chunked) response: begin, any number of chunks, end.
  void begin_stream(const std::string& content_type = "text/event-stream",
                    const std::vector<std::pair<std::string, std::string>>& headers = {});
  void write_chunk(std::string data);
  void end_stream();

  // Called once if the client goes away before the response is complete.
  void on_disconnect(std::function<void()> callback);
  bool finished() const { return finished_.load(); }
  // The server is shutting down (SIGINT/SIGTERM): work cancelled now was cancelled by that.
  bool server_stopping() const;

  // Runs `work` on the server's pool for blocking work (database calls), off
  // the I/O thread; it may answer through this exchange from there.
  void run_blocking(std::function<void()> work);

  // Counted in the request log line (generated tokens), rate limits and the audit log.
  void add_tokens(int n) { tokens_ += n; }
  // The model that served the request and its prompt's tokens (any thread).
  void set_usage(const std::string& model, int prompt_tokens);

  // Who sent the request (set by the access guard before the route runs; a
  // server without keys gives the open principal), and its address.
  const access::Principal& principal() const { return principal_; }
  const std::string& client() const { return client_; }
  // Sent with whatever response this exchange ends with (rate limit headers).
  void add_response_header(std::string name, std::string value);

 private:
  friend class Session;
  friend class AccessGuard;
  std::string extra_headers() const;
  std::shared_ptr<Session> session_;
  Request request_;
  std::vector<std::string> path_params_;
  std::atomic<bool> finished_{false};  // the response is complete (or the client is gone)
  std::atomic<bool> streaming_{false};
  std::atomic<int> tokens_{0};
  std::atomic<unsigned> status_{0};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  int64_t started_unix_ms_ = 0;
  std::string client_;
  access::Principal principal_;
  AccessGuard* guard_ = nullptr;  // set when admitted: told when the exchange ends
  bool generation_ = false, audited_ = false;
  std::atomic<int> prompt_tokens_{0};
  mutable std::mutex usage_mutex_;
  std::string model_;
  std::vector<std::pair<std::string, std::string>> response_headers_;  // set before the route runs
};

}  // namespace rmm::server
