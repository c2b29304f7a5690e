#include "support/test_env.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "core/subprocess.hpp"

namespace rmm::test {
namespace {

std::filesystem::path env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? std::filesystem::path(v) : std::filesystem::path(fallback);
}

}  // namespace

std::filesystem::path shared_models_dir() { return env_or("RMM_SHARED_MODELS", RMM_SHARED_MODELS_DEFAULT); }

std::filesystem::path shared_model(const std::string& file) {
  auto p = shared_models_dir() / file;
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec) ? p : std::filesystem::path{};
}

std::filesystem::path rmm_binary() { return env_or("RMM_BIN", RMM_BIN_DEFAULT); }

std::filesystem::path peer_tool(const std::string& name) {
  return env_or("RMM_PEER_BIN_DIR", RMM_PEER_BIN_DIR_DEFAULT) / name;
}

std::filesystem::path llama_source_dir() { return env_or("RMM_LLAMA_DIR", RMM_LLAMA_DIR_DEFAULT); }

int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::filesystem::path temp_dir(const std::string& tag) {
  auto base = std::filesystem::temp_directory_path() / ("rmm-test-" + tag + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  return base;
}

ScopedEnv::ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
  ::setenv(name_.c_str(), value.c_str(), 1);
}

ScopedEnv::~ScopedEnv() { ::unsetenv(name_.c_str()); }

std::filesystem::path forge_model(const std::filesystem::path& dir, const std::string& name,
                                  const std::vector<std::string>& args) {
  const auto out = dir / (name + ".gguf");
  std::vector<std::string> argv = {rmm_binary().string(), "forge", out.string(), "--threads", "1", "-q"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_process(argv);
  if (r.exit_code != 0) throw std::runtime_error("rmm forge failed: " + r.err);
  return out;
}

bool process_ended(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, the state follows the last ')'.
  const auto close = line.rfind(')');
  return close == std::string::npos || line.size() < close + 3 || line[close + 2] == 'Z';
}

}  // namespace rmm::test
