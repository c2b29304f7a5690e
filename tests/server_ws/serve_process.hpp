#pragma once
// `rmm serve ARGS... --port 0` as a child process for the WebSocket tests:
// ready once stderr shows `rmm serve: listening on http://HOST:PORT`. A thread
// drains its output (kept for log checks and failure messages); the process is
// killed when the object goes.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rmm::test {

class ServeProcess {
 public:
  // Throws std::runtime_error with the server's output when it does not come up.
  explicit ServeProcess(const std::vector<std::string>& args);
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  std::string output() const;
  // Waits until the output contains `text`; false after `timeout`.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const;

 private:
  void drain();

  pid_t pid_ = -1;
  int fd_ = -1;
  std::string host_;
  int port_ = 0;
  std::thread reader_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::string out_;
  bool closed_ = false;
};

}  // namespace rmm::test
