#pragma once
// Where the tests find models, binaries and llama.cpp's peer tools.
#include <filesystem>
#include <string>
#include <vector>

namespace rmm::test {

std::filesystem::path shared_models_dir();
// Path of a model in ../shared/models; the caller should GTEST_SKIP when empty.
std::filesystem::path shared_model(const std::string& file);
std::filesystem::path rmm_binary();
std::filesystem::path peer_tool(const std::string& name);  // e.g. "llama-completion"
std::filesystem::path llama_source_dir();
// A loopback port nothing listens on (bound, then released).
int unused_port();
// A fresh, empty directory under the build's temp area, removed at exit.
std::filesystem::path temp_dir(const std::string& tag);

// Writes DIR/NAME.gguf with `rmm forge` (--threads 1 -q, then ARGS); throws
// std::runtime_error with forge's message when it fails.
std::filesystem::path forge_model(const std::filesystem::path& dir, const std::string& name,
                                  const std::vector<std::string>& args);

// True when process `pid` has ended: gone, or a zombie nobody has reaped yet
// (an orphaned worker waits for init, which may take its time).
bool process_ended(int pid);

// Sets an environment variable for the life of the object (child processes see it), then unsets it.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
};

}  // namespace rmm::test

// Skips the current test, visibly, when a shared model is missing.
#define RMM_REQUIRE_SHARED_MODEL(var, file)                          \
  const std::filesystem::path var = ::rmm::test::shared_model(file); \
  if (var.empty())                                                   \
  GTEST_SKIP() << "shared model " << (file) << " is absent in " << ::rmm::test::shared_models_dir()
