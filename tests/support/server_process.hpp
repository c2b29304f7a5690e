#pragma once
// `rmm serve` as a child process: started with --port 0, ready once it prints
// `rmm serve: listening on http://HOST:PORT` on stderr, stopped with a signal.
// A background thread drains its stdout and stderr so the server never blocks
// on a full pipe, and keeps them for failure messages. Any other program can be
// run the same way (the benchmarks start llama-server and llama-batched-bench).
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rmm::test {

struct ExitStatus {
  bool exited = false;  // normal exit (code valid) rather than killed by a signal
  int code = -1;
  int signal = 0;
  std::chrono::milliseconds took{0};  // from the stop signal to the exit
};

class ServerProcess {
 public:
  // Runs `rmm_binary() serve ARGS...`; throws std::runtime_error with the
  // server's output when it exits or stays silent for `ready_timeout`. Adds
  // `--database FRESH_TEMP_FILE` unless ARGS, RMM_DATABASE or RMM_HOME name one.
  explicit ServerProcess(const std::vector<std::string>& args,
                         std::chrono::milliseconds ready_timeout = std::chrono::seconds(30));
  // Any program: argv[0] is its path, the arguments are passed as they are, and
  // nothing is waited for. Its stdout and stderr also go to `log` when set.
  struct Command {
    std::vector<std::string> argv;
    std::filesystem::path log;
  };
  explicit ServerProcess(const Command& command);
  ~ServerProcess();  // SIGKILL if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  const std::string& host() const { return host_; }
  pid_t pid() const { return pid_; }

  // Sends `sig` (once; `took` counts from the first signal).
  void signal(int sig);
  // Waits for the exit; nullopt if it is still running after `timeout`.
  std::optional<ExitStatus> wait(std::chrono::milliseconds timeout);
  // signal() then wait().
  std::optional<ExitStatus> stop(int sig, std::chrono::milliseconds timeout);
  bool running();
  // Everything the server wrote to stderr (and stdout, after a marker) so far.
  std::string output() const;
  // Waits until the output contains `text`; false after `timeout`.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const;
  // Waits until the output has ended (the process and every child that shares
  // its stdout and stderr closed them); false after `timeout`.
  bool wait_output_end(std::chrono::milliseconds timeout) const;
  // Waits for rmm serve's listening line and takes host() and port() from it;
  // false when the process closed its output first or after `timeout`.
  bool wait_listening(std::chrono::milliseconds timeout);

 private:
  void start(const std::vector<std::string>& argv, const std::filesystem::path& log);
  void drain();

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int log_fd_ = -1;
  int port_ = 0;
  std::string host_;
  std::optional<ExitStatus> exit_;
  std::optional<std::chrono::steady_clock::time_point> signalled_;
  std::thread reader_;
  std::atomic<bool> stop_reader_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::string out_, err_;
  bool pipes_closed_ = false;
};

}  // namespace rmm::test
