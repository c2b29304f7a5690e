// What a new user types first (issue 12, item 14): --help that shows the
// defaults and llama.cpp's short flags, `rmm serve --host localhost`, IPv6
// URLs, a --models-dir that does not exist yet, and typos in config.toml.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/subprocess.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

using namespace rmm;
using namespace rmm::test;
namespace fs = std::filesystem;

namespace {

ProcessResult rmm_cmd(std::vector<std::string> args) {
  args.insert(args.begin(), rmm_binary().string());
  return run_process(args);
}

// Whether this machine can listen on ::1 (a container may have no IPv6).
bool ipv6_loopback() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

class CliFirstRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("cli-first-run");
    home_ = std::make_unique<ScopedEnv>("RMM_HOME", (dir_ / "home").string());
    fs::create_directories(dir_ / "home");
  }
  std::vector<std::string> serve_args(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--port", "0", "-t", "1", "--in-process"};
    if (std::find(extra.begin(), extra.end(), "--models-dir") == extra.end())
      args.insert(args.end(), {"--models-dir", (dir_ / "models").string()});
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  fs::path dir_;
  std::unique_ptr<ScopedEnv> home_;
};

}  // namespace

TEST_F(CliFirstRun, HelpShowsSamplingDefaultsAndLlamaStyleFlags) {
  for (const std::string cmd : {"run", "chat"}) {
    const auto r = rmm_cmd({cmd, "--help"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const std::string text :
         {"Temperature (0: greedy; default 0.8)", "Top-k (0: off; default 40)",
          "Top-p (1: off; default 0.95)", "Min-p (0: off; default 0.05)",
          "Repeat penalty (1: off; default 1)", "default 64)", "Random seed (-1: random; default -1)",
          "-ngl,--gpu-layers", "-ub,--ubatch-size", "-fa,--flash-attn"})
      EXPECT_NE(r.out.find(text), std::string::npos) << cmd << ": " << text << "\n" << r.out;
    // -np and -m stand for options that run and chat lack: not listed there.
    EXPECT_EQ(r.out.find("-np"), std::string::npos) << r.out;
  }
  const auto serve = rmm_cmd({"serve", "--help"});
  ASSERT_EQ(serve.exit_code, 0) << serve.err;
  for (const std::string text : {"-np,--parallel", "-ngl,--gpu-layers", "-ub,--ubatch-size",
                                 "-fa,--flash-attn", "-m,--model", "default 5m"})
    EXPECT_NE(serve.out.find(text), std::string::npos) << text << "\n" << serve.out;
  EXPECT_EQ(serve.out.find("-m,-m,"), std::string::npos) << serve.out;  // -m is its own short name there
}

TEST_F(CliFirstRun, LlamaStyleShortFlagsWork) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const auto r = rmm_cmd({"run", model.string(), "Once", "-ngl", "0", "-ub", "64", "-fa", "off", "-t", "1",
                          "--temp", "0", "-n", "4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
}

// localhost is a name, not an IP address: it binds the loopback address, and the server answers on it.
TEST_F(CliFirstRun, ServeOnLocalhostBindsLoopback) {
  ServerProcess server(serve_args({"--host", "localhost"}));
  EXPECT_EQ(server.host(), "127.0.0.1") << server.output();
  const auto ps = rmm_cmd({"ps", "--url", "http://localhost:" + std::to_string(server.port())});
  EXPECT_EQ(ps.exit_code, 0) << ps.err;
  EXPECT_NE(ps.out.find("no models loaded"), std::string::npos) << ps.out;
  // Also through serve's own settings, as `rmm ps` reads them.
  ScopedEnv host("RMM_HOST", "localhost");
  ScopedEnv port("RMM_PORT", std::to_string(server.port()));
  const auto by_settings = rmm_cmd({"ps"});
  EXPECT_EQ(by_settings.exit_code, 0) << by_settings.err;
}

TEST_F(CliFirstRun, Ipv6UrlsHaveBracketsAndPsReadsThem) {
  if (!ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback here";
  ServerProcess server(serve_args({"--host", "::1"}));
  const std::string url = "http://[::1]:" + std::to_string(server.port());
  EXPECT_NE(server.output().find("rmm serve: listening on " + url), std::string::npos) << server.output();
  auto ps = rmm_cmd({"ps", "--url", url});
  EXPECT_EQ(ps.exit_code, 0) << ps.err;
  EXPECT_NE(ps.out.find("no models loaded"), std::string::npos) << ps.out;
  ps = rmm_cmd({"ps", "--url", url + "/", "--json"});
  EXPECT_EQ(ps.exit_code, 0) << ps.err;
  ps = rmm_cmd({"ps", "--host", "::1", "--port", std::to_string(server.port())});
  EXPECT_EQ(ps.exit_code, 0) << ps.err;
  // Nothing there: the message brackets the address too.
  server.stop(SIGTERM, std::chrono::seconds(10));
  ps = rmm_cmd({"ps", "--url", url});
  EXPECT_EQ(ps.exit_code, 1);
  EXPECT_NE(ps.err.find("no rmm serve at " + url), std::string::npos) << ps.err;
  EXPECT_EQ(rmm_cmd({"ps", "--url", "http://[::1"}).exit_code, 2);
}

// Made when missing (as `rmm pull` makes its folders), so that the first serve of a new folder works;
// refused, with the reason, when it cannot be a folder.
TEST_F(CliFirstRun, MissingModelsDirIsMadeOrRefusedWithTheReason) {
  const fs::path fresh = dir_ / "new" / "models";
  {
    ServerProcess server(serve_args({"--models-dir", fresh.string()}));
    EXPECT_TRUE(fs::is_directory(fresh)) << server.output();
  }
  std::ofstream(dir_ / "a-file") << "x";
  auto r = rmm_cmd({"serve", "--port", "0", "--models-dir", (dir_ / "a-file").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("is not a directory"), std::string::npos) << r.err;
  r = rmm_cmd({"serve", "--port", "0", "--models-dir", (dir_ / "a-file" / "models").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot create the models dir " + (dir_ / "a-file" / "models").string()),
            std::string::npos)
      << r.err;
}

// Unknown keys in config.toml are ignored, but said, with the file and line (and the likely key).
TEST_F(CliFirstRun, ConfigTyposAreWarnedWithFileAndLine) {
  const fs::path config = dir_ / "home" / "config.toml";
  std::ofstream(config) << "[serve]\nhost = \"127.0.0.1\"\nprot = 5001\n\n[cahce]\nttl = \"1h\"\n[models]\n"
                           "extra_dirs = \"\"\n";
  const auto r = rmm_cmd({"ps", "--port", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(config.string() + ":3: unknown key 'prot' in [serve] (ignored; did you mean 'port'?)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(config.string() + ":5: unknown section [cahce] (ignored; did you mean 'cache'?)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("host"), std::string::npos) << r.err;  // a known key is not warned about
  EXPECT_EQ(r.err.find("extra_dirs"), std::string::npos) << r.err;
}
