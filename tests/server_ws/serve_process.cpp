#include "serve_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>
#include <stdexcept>

#include "support/test_env.hpp"

namespace rmm::test {

ServeProcess::ServeProcess(const std::vector<std::string>& args) {
  std::vector<std::string> argv_s{rmm_binary().string(), "serve"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
    ::dup2(pipefd[1], STDOUT_FILENO);
    ::dup2(pipefd[1], STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  fd_ = pipefd[0];
  reader_ = std::thread([this] { drain(); });

  const std::regex listening(R"(rmm serve: listening on http://([^\s/]+):(\d+))");
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    std::smatch m;
    if (std::regex_search(out_, m, listening)) {
      host_ = m[1];
      port_ = std::stoi(m[2]);
      return;
    }
    if (closed_ || std::chrono::steady_clock::now() >= deadline) break;
    changed_.wait_until(lock, deadline);
  }
  const std::string log = out_;
  lock.unlock();
  throw std::runtime_error("rmm serve did not come up:\n" + log);
}

ServeProcess::~ServeProcess() {
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  if (reader_.joinable()) reader_.join();  // the pipe closes with the process
  ::close(fd_);
}

void ServeProcess::drain() {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard lock(mutex_);
    if (n <= 0) {
      closed_ = true;
      changed_.notify_all();
      return;
    }
    out_.append(buf, static_cast<size_t>(n));
    changed_.notify_all();
  }
}

std::string ServeProcess::output() const {
  std::lock_guard lock(mutex_);
  return out_;
}

bool ServeProcess::wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return out_.find(text) != std::string::npos; });
}

}  // namespace rmm::test
