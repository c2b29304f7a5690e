#include "hub/fake_hub.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "core/sha256.hpp"
#include "models/download/http_client.hpp"
#include "support/test_env.hpp"

namespace rmm::test {
namespace fs = std::filesystem;

FakeHub::FakeHub(const std::string& tag) {
  const fs::path base = temp_dir("hub-" + tag);
  root_ = base / "repos";
  work_ = base / "work";
  fs::create_directories(root_);
  fs::create_directories(work_);
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    execlp("python3", "python3", RMM_FAKE_HUB_PY, root_.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string line;
  pollfd p{out[0], POLLIN, 0};
  while (line.find('\n') == std::string::npos) {
    if (poll(&p, 1, 15000) <= 0) break;
    char buf[64];
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  port_ = std::atoi(line.c_str());
  if (port_ <= 0) throw std::runtime_error("fake_hub.py did not start (python3 on PATH?)");
}

FakeHub::~FakeHub() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
}

std::string FakeHub::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string FakeHub::add_file(const std::string& repo, const std::string& path, uint64_t size,
                              uint32_t seed) {
  const fs::path full = root_ / repo / path;
  fs::create_directories(full.parent_path());
  std::string data = "GGUF";
  std::mt19937 rng(seed);
  while (data.size() < size) data.push_back(static_cast<char>(rng() & 0xff));
  data.resize(size);
  std::ofstream(full, std::ios::binary | std::ios::trunc) << data;
  return rmm::sha256_hex(data);
}

void FakeHub::set_meta(const std::string& repo, const std::string& json) {
  fs::create_directories(root_ / repo);
  std::ofstream(root_ / repo / ".hub.json", std::ios::trunc) << json;
}

namespace {
std::string get(const std::string& url) {
  download::HttpRequest r;
  r.url = url;
  const auto resp = download::http_perform(r);
  if (resp.status != 200)
    throw std::runtime_error("fake hub control failed: " + url + " " + resp.transport_error);
  return resp.body;
}
}  // namespace

void FakeHub::configure(const std::string& query) { get(endpoint() + "/_fake/config?" + query); }
void FakeHub::reset() { get(endpoint() + "/_fake/reset"); }
std::string FakeHub::log() { return get(endpoint() + "/_fake/log"); }

pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const fs::path& out, const fs::path& err) {
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

int wait_child(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string sha256_of_file(const fs::path& path) { return rmm::sha256_file_hex(path); }

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace rmm::test
