#pragma once
// One HTTP request and its response, handed to a route handler. Every method
// may be called from any thread (the engine thread streams tokens through it);
// the work is posted to the connection's executor.
#include <atomic>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace rmm::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;

class Session;

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

  // Runs `work` on the server's pool for blocking work (database calls), off
  // the I/O thread; it may answer through this exchange from there.
  void run_blocking(std::function<void()> work);

  // Counted in the request log line (generated tokens).
  void add_tokens(int n) { tokens_ += n; }

 private:
  friend class Session;
  std::shared_ptr<Session> session_;
  Request request_;
  std::vector<std::string> path_params_;
  std::atomic<bool> finished_{false};  // the response is complete (or the client is gone)
  std::atomic<bool> streaming_{false};
  std::atomic<int> tokens_{0};
  std::atomic<unsigned> status_{0};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace rmm::server
