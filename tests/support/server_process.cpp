#include "support/server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <stdexcept>

#include "support/test_env.hpp"

namespace rmm::test {
namespace {

using Clock = std::chrono::steady_clock;

ExitStatus decode(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) {
    s.exited = true;
    s.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
  }
  return s;
}

}  // namespace

ServerProcess::ServerProcess(const std::vector<std::string>& args, std::chrono::milliseconds ready_timeout) {
  std::vector<std::string> argv_s{rmm_binary().string(), "serve"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  // Tests never write to the user's $RMM_HOME: a fresh database per server,
  // unless the test chose the location itself (flag, RMM_DATABASE or RMM_HOME).
  if (std::find(args.begin(), args.end(), "--database") == args.end() && !std::getenv("RMM_DATABASE") &&
      !std::getenv("RMM_HOME")) {
    static std::atomic<int> servers{0};
    const auto dir = temp_dir("serve-db-" + std::to_string(servers++));
    argv_s.insert(argv_s.end(), {"--database", (dir / "rmm.db").string()});
  }
  start(argv_s, {});
  if (wait_listening(ready_timeout)) return;
  std::unique_lock lock(mutex_);
  const std::string why = pipes_closed_ ? "exited" : "did not print its listening line in time";
  const std::string log = "stderr:\n" + err_ + "\nstdout:\n" + out_;
  lock.unlock();
  stop(SIGKILL, std::chrono::seconds(5));
  stop_reader_ = true;
  if (reader_.joinable()) reader_.join();
  throw std::runtime_error("rmm serve " + why + "\n" + log);
}

ServerProcess::ServerProcess(const Command& command) { start(command.argv, command.log); }

void ServerProcess::start(const std::vector<std::string>& argv_s, const std::filesystem::path& log) {
  std::vector<char*> argv;
  for (const auto& a : argv_s) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  if (!log.empty()) {
    log_fd_ = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd_ < 0) throw std::runtime_error("cannot write " + log.string() + ": " + std::strerror(errno));
  }
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    // Child: only async-signal-safe calls until exec. Dies with the test process.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
  reader_ = std::thread([this] { drain(); });
}

bool ServerProcess::wait_listening(std::chrono::milliseconds timeout) {
  const std::regex listening(R"(rmm serve: listening on http://([^\s/]+):(\d+))");
  std::unique_lock lock(mutex_);
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::smatch m;
    if (std::regex_search(err_, m, listening)) {
      host_ = m[1];
      port_ = std::stoi(m[2]);
      return true;
    }
    if (pipes_closed_ || Clock::now() >= deadline) return false;
    changed_.wait_until(lock, deadline);
  }
}

ServerProcess::~ServerProcess() {
  if (!exit_) stop(SIGKILL, std::chrono::seconds(5));
  stop_reader_ = true;
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
  if (log_fd_ >= 0) ::close(log_fd_);
}

void ServerProcess::drain() {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0 && !stop_reader_) {
    const int r = ::poll(fds, 2, 100);
    if (r <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock(mutex_);
      if (n <= 0) {
        fds[i].fd = -1;  // negative fds are ignored by poll
        --open_fds;
      } else {
        (i == 0 ? out_ : err_).append(buf, static_cast<size_t>(n));
        if (log_fd_ >= 0 && ::write(log_fd_, buf, static_cast<size_t>(n)) != n) {
          ::close(log_fd_);  // a full disk: stop logging, keep draining
          log_fd_ = -1;
        }
      }
      changed_.notify_all();
    }
  }
  std::lock_guard lock(mutex_);
  pipes_closed_ = true;
  changed_.notify_all();
}

bool ServerProcess::running() {
  if (exit_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_ = decode(status);
    return false;
  }
  return true;
}

void ServerProcess::signal(int sig) {
  if (exit_) return;
  if (!signalled_) signalled_ = Clock::now();
  ::kill(pid_, sig);
}

std::optional<ExitStatus> ServerProcess::wait(std::chrono::milliseconds timeout) {
  if (exit_) return exit_;
  const auto start = Clock::now();
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_ = decode(status);
      exit_->took =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - signalled_.value_or(start));
      return exit_;
    }
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (Clock::now() - start >= timeout) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::optional<ExitStatus> ServerProcess::stop(int sig, std::chrono::milliseconds timeout) {
  signal(sig);
  return wait(timeout);
}

std::string ServerProcess::output() const {
  std::lock_guard lock(mutex_);
  return err_ + (out_.empty() ? "" : "\n--- stdout ---\n" + out_);
}

bool ServerProcess::wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return err_.find(text) != std::string::npos || out_.find(text) != std::string::npos || pipes_closed_;
  }) && (err_.find(text) != std::string::npos || out_.find(text) != std::string::npos);
}

bool ServerProcess::wait_output_end(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return pipes_closed_; });
}

}  // namespace rmm::test
