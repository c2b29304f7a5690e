#pragma once
// Runs tests/hub/fake_hub.py (a stand-in for the Hugging Face Hub) on a free
// loopback port for one test, and builds repos for it to serve.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace rmm::test {

class FakeHub {
 public:
  explicit FakeHub(const std::string& tag);
  ~FakeHub();
  FakeHub(const FakeHub&) = delete;
  FakeHub& operator=(const FakeHub&) = delete;

  std::string endpoint() const;  // http://127.0.0.1:PORT
  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& work() const { return work_; }  // a scratch folder beside the repos

  // Writes a file of `size` pseudo-random bytes (starting with "GGUF") into
  // repo `repo`; returns its sha256.
  std::string add_file(const std::string& repo, const std::string& path, uint64_t size, uint32_t seed = 1);
  // Writes ROOT/OWNER/NAME/.hub.json.
  void set_meta(const std::string& repo, const std::string& json);

  // GET /_fake/config?QUERY (see fake_hub.py); /_fake/reset; the request log as JSON text.
  void configure(const std::string& query);
  void reset();
  std::string log();

 private:
  std::filesystem::path root_, work_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Runs argv[0] with the extra environment, output to files; returns its pid.
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const std::filesystem::path& out, const std::filesystem::path& err);
// Waits for a child: its exit code, or 128 + signal.
int wait_child(pid_t pid);

std::string sha256_of_file(const std::filesystem::path& path);
std::string read_text(const std::filesystem::path& path);

}  // namespace rmm::test
