// `rmm pull` and `rmm search` as processes against the fake hub: quant
// choice, split sets, mmproj, gated repos, bad names, wrong bytes, and a
// pull killed with SIGKILL at random moments that still ends verified.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "hub/fake_hub.hpp"
#include "models/download/downloader.hpp"
#include "support/test_env.hpp"

namespace fs = std::filesystem;
using rmm::test::FakeHub;

namespace {

struct CliRun {
  int code = -1;
  std::string out, err;
};

class PullCli : public ::testing::Test {
 protected:
  std::map<std::string, std::string> env(const std::string& token = "") const {
    return {{"RMM_HF_ENDPOINT", hub.endpoint()},
            {"HF_TOKEN", token},
            {"RMM_HOME", (hub.work() / "home").string()},
            {"RMM_PULL_RETRY_BASE_MS", "5"}};
  }
  pid_t start(const std::vector<std::string>& args, const std::string& token = "") {
    std::vector<std::string> argv = {rmm::test::rmm_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return rmm::test::spawn(argv, env(token), hub.work() / "out.txt", hub.work() / "err.txt");
  }
  CliRun rmm(const std::vector<std::string>& args, const std::string& token = "") {
    CliRun r;
    r.code = rmm::test::wait_child(start(args, token));
    r.out = rmm::test::read_text(hub.work() / "out.txt");
    r.err = rmm::test::read_text(hub.work() / "err.txt");
    return r;
  }
  fs::path models() const { return hub.work() / "home" / "models"; }

  FakeHub hub{"pull"};
};

}  // namespace

TEST_F(PullCli, DefaultQuantAndMmproj) {
  const auto q4 = hub.add_file("acme/tiny-GGUF", "tiny-Q4_K_M.gguf", 3000, 1);
  hub.add_file("acme/tiny-GGUF", "tiny-Q8_0.gguf", 4000, 2);
  const auto mm = hub.add_file("acme/tiny-GGUF", "mmproj-tiny-f16.gguf", 500, 3);
  const CliRun r = rmm({"pull", "acme/tiny-GGUF"});
  ASSERT_EQ(r.code, 0) << r.err;
  const fs::path dir = models() / "acme" / "tiny-GGUF";
  EXPECT_EQ(rmm::test::sha256_of_file(dir / "tiny-Q4_K_M.gguf"), q4);
  EXPECT_EQ(rmm::test::sha256_of_file(dir / "mmproj-tiny-f16.gguf"), mm);
  EXPECT_FALSE(fs::exists(dir / "tiny-Q8_0.gguf"));
  const std::string manifest = rmm::test::read_text(dir / "rmm-pull.json");
  EXPECT_NE(manifest.find(q4), std::string::npos);
  EXPECT_NE(manifest.find("\"mmproj\""), std::string::npos);
  EXPECT_NE(r.err.find("Q4_K_M"), std::string::npos) << r.err;  // the plan line
}

TEST_F(PullCli, ExplicitQuantCaseInsensitiveAndMissingOnesListed) {
  hub.add_file("acme/tiny-GGUF", "tiny-Q4_K_M.gguf", 3000, 1);
  const auto q8 = hub.add_file("acme/tiny-GGUF", "tiny-Q8_0.gguf", 4000, 2);
  CliRun r = rmm({"pull", "acme/tiny-GGUF:q8_0", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(rmm::test::sha256_of_file(models() / "acme/tiny-GGUF/tiny-Q8_0.gguf"), q8);
  EXPECT_NE(r.out.find("\"quant\": \"Q8_0\""), std::string::npos) << r.out;
  r = rmm({"pull", "acme/tiny-GGUF:IQ4_XS"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no IQ4_XS quantization in acme/tiny-GGUF; it has: Q4_K_M, Q8_0"), std::string::npos)
      << r.err;
}

TEST_F(PullCli, SplitSetIsPulledAsAGroup) {
  std::vector<std::string> shas;
  for (int i = 1; i <= 3; ++i)
    shas.push_back(hub.add_file(
        "acme/big-GGUF", "Q4_K_M/big-Q4_K_M-0000" + std::to_string(i) + "-of-00003.gguf", 2000 + i, 10 + i));
  hub.add_file("acme/big-GGUF", "big-Q8_0.gguf", 100, 20);
  const CliRun r = rmm({"pull", "acme/big-GGUF", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (int i = 1; i <= 3; ++i)
    EXPECT_EQ(rmm::test::sha256_of_file(models() / "acme/big-GGUF" /
                                        ("big-Q4_K_M-0000" + std::to_string(i) + "-of-00003.gguf")),
              shas[i - 1]);
  EXPECT_FALSE(fs::exists(models() / "acme/big-GGUF/big-Q8_0.gguf"));
}

TEST_F(PullCli, KilledAtRandomTimesResumesToAVerifiedFile) {
  constexpr uint64_t kSize = 3 << 20;
  const auto sha = hub.add_file("acme/slow-GGUF", "slow-Q4_K_M.gguf", kSize, 5);
  hub.configure("rate=3000000");  // about a second per full download
  const fs::path file = models() / "acme/slow-GGUF/slow-Q4_K_M.gguf";
  std::mt19937 rng(42);
  int killed_mid_way = 0;
  for (int round = 0; round < 5; ++round) {
    const pid_t pid = start({"pull", "acme/slow-GGUF", "-q"});
    // Killed at a random moment once bytes flow (waiting for them first: a loaded machine can take
    // longer than any fixed delay to start the process and reach the Hub).
    const fs::path part = rmm::download::part_path(file);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::error_code ec;
    while (std::chrono::steady_clock::now() < deadline && !(fs::file_size(part, ec) > 0 && !ec))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 150));
    kill(pid, SIGKILL);
    rmm::test::wait_child(pid);
    ASSERT_FALSE(fs::exists(file) && rmm::test::sha256_of_file(file) != sha)
        << "a bad file under the final name";
    if (fs::exists(part) && fs::file_size(part) > 0 && fs::file_size(part) < kSize) ++killed_mid_way;
  }
  EXPECT_GE(killed_mid_way, 2);
  const CliRun r = rmm({"pull", "acme/slow-GGUF", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(rmm::test::sha256_of_file(file), sha);
  EXPECT_FALSE(fs::exists(rmm::download::part_path(file)));
  EXPECT_NE(hub.log().find("\"range\": \"bytes="), std::string::npos);  // it resumed
}

TEST_F(PullCli, CtrlCKeepsThePart) {
  hub.add_file("acme/slow-GGUF", "slow-Q4_K_M.gguf", 3 << 20, 5);
  hub.configure("rate=3000000");
  const pid_t pid = start({"pull", "acme/slow-GGUF"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pid, SIGINT);
  EXPECT_EQ(rmm::test::wait_child(pid), 130);
  EXPECT_NE(rmm::test::read_text(hub.work() / "err.txt").find("run the same command to resume"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(rmm::download::part_path(models() / "acme/slow-GGUF/slow-Q4_K_M.gguf")));
}

TEST_F(PullCli, WrongBytesNeverBecomeAModel) {
  hub.add_file("acme/tiny-GGUF", "tiny-Q4_K_M.gguf", 3000, 1);
  hub.configure("corrupt=1");
  const CliRun r = rmm({"pull", "acme/tiny-GGUF"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("sha256 mismatch"), std::string::npos) << r.err;
  const fs::path file = models() / "acme/tiny-GGUF/tiny-Q4_K_M.gguf";
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(fs::exists(rmm::download::part_path(file)));
  EXPECT_FALSE(fs::exists(models() / "acme/tiny-GGUF/rmm-pull.json"));
}

TEST_F(PullCli, GatedRepoWithoutAndWithToken) {
  hub.add_file("acme/gated-GGUF", "g-Q4_K_M.gguf", 3000, 1);
  hub.set_meta("acme/gated-GGUF", R"({"gated_token": "hf_good"})");
  CliRun r = rmm({"pull", "acme/gated-GGUF"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("gated"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("HF_TOKEN"), std::string::npos) << r.err;
  r = rmm({"pull", "acme/gated-GGUF"}, "hf_good");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(models() / "acme/gated-GGUF/g-Q4_K_M.gguf"));
  // The token went to the Hub's resolve URL and never to the CDN it redirects to.
  bool token_to_hub = false, token_to_cdn = false;
  const std::string log = hub.log();
  for (size_t at = 0; (at = log.find("{\"method\"", at)) != std::string::npos; ++at) {
    const std::string entry = log.substr(at, log.find('}', at) - at);
    const bool auth = entry.find("\"authorization\": true") != std::string::npos;
    if (entry.find("/resolve/") != std::string::npos) token_to_hub |= auth;
    if (entry.find("/cdn/") != std::string::npos) token_to_cdn |= auth;
  }
  EXPECT_TRUE(token_to_hub);
  EXPECT_FALSE(token_to_cdn);
}

TEST_F(PullCli, MissingRepoAndBadNames) {
  CliRun r = rmm({"pull", "acme/nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("repo acme/nope not found"), std::string::npos) << r.err;
  r = rmm({"pull", "acme/../etc"});
  EXPECT_EQ(r.code, 2);
  r = rmm({"pull", "acme/x:../../evil"});
  EXPECT_EQ(r.code, 2);
  // A listing that names a file outside the repo is refused before anything is written.
  hub.add_file("acme/hostile-GGUF", "ok-Q8_0.gguf", 100, 1);
  hub.set_meta("acme/hostile-GGUF", R"({"extra_entries": [{"type": "file", "path": "../../evil-Q4_K_M.gguf",
      "size": 10, "oid": "0", "lfs": {"oid": ")" +
                                        std::string(64, 'a') + R"(", "size": 10, "pointerSize": 130}}]})");
  r = rmm({"pull", "acme/hostile-GGUF"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("'..'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(models() / "evil-Q4_K_M.gguf"));
  EXPECT_FALSE(fs::exists(models().parent_path() / "evil-Q4_K_M.gguf"));
}

TEST_F(PullCli, ResolveUrlPullsOneFile) {
  const auto sha = hub.add_file("acme/tiny-GGUF", "tiny-Q8_0.gguf", 4000, 2);
  const CliRun r = rmm({"pull", hub.endpoint() + "/acme/tiny-GGUF/resolve/main/tiny-Q8_0.gguf"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(rmm::test::sha256_of_file(models() / "acme/tiny-GGUF/tiny-Q8_0.gguf"), sha);
}

TEST_F(PullCli, SearchTableAndJson) {
  hub.add_file("acme/tiny-GGUF", "tiny-Q8_0.gguf", 100, 2);
  hub.set_meta("acme/tiny-GGUF",
               R"({"downloads": 12345, "likes": 7, "lastModified": "2025-03-04T00:00:00.000Z"})");
  CliRun r = rmm({"search", "tiny"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("REPO"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("acme/tiny-GGUF"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("12.3k"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2025-03-04"), std::string::npos) << r.out;
  r = rmm({"search", "tiny", "--json", "--limit", "5"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"downloads\": 12345"), std::string::npos) << r.out;
}

TEST_F(PullCli, TwoPullsIntoOneFolderDoNotMix) {
  const auto sha = hub.add_file("acme/slow-GGUF", "slow-Q4_K_M.gguf", 1 << 20, 5);
  hub.configure("rate=2000000");
  const pid_t first = start({"pull", "acme/slow-GGUF", "-q"});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::vector<std::string> argv = {rmm::test::rmm_binary().string(), "pull", "acme/slow-GGUF", "-q"};
  const pid_t second = rmm::test::spawn(argv, env(), hub.work() / "out2.txt", hub.work() / "err2.txt");
  EXPECT_EQ(rmm::test::wait_child(second), 1);
  EXPECT_NE(rmm::test::read_text(hub.work() / "err2.txt").find("another rmm pull"), std::string::npos);
  EXPECT_EQ(rmm::test::wait_child(first), 0);
  EXPECT_EQ(rmm::test::sha256_of_file(models() / "acme/slow-GGUF/slow-Q4_K_M.gguf"), sha);
}

TEST_F(PullCli, SearchOnAnEndpointWithoutTheHubApiSaysSo) {
  // Not a Hub at all: every path answers 404 without the Hub's X-Error-Code.
  auto e = env();
  e["RMM_HF_ENDPOINT"] = hub.endpoint() + "/not-a-hub";
  const pid_t pid = rmm::test::spawn({rmm::test::rmm_binary().string(), "search", "tiny"}, e,
                                     hub.work() / "out.txt", hub.work() / "err.txt");
  EXPECT_EQ(rmm::test::wait_child(pid), 1);
  const std::string err = rmm::test::read_text(hub.work() / "err.txt");
  EXPECT_NE(err.find("search"), std::string::npos) << err;
  EXPECT_NE(err.find("404"), std::string::npos) << err;
  EXPECT_NE(err.find("RMM_HF_ENDPOINT"), std::string::npos) << err;
  // A search names no repo: nothing about private repos or tokens.
  EXPECT_EQ(err.find("private"), std::string::npos) << err;
  EXPECT_EQ(err.find("HF_TOKEN"), std::string::npos) << err;
  EXPECT_EQ(err.find("repo"), std::string::npos) << err;
}

TEST_F(PullCli, FailedPullsLeaveNoEmptyFoldersAndNoZeroSizedPlan) {
  // A file URL into a repo that does not exist: the Hub refuses its metadata.
  CliRun r = rmm({"pull", hub.endpoint() + "/acme/none-GGUF/resolve/main/none-Q4_K_M.gguf"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("acme/none-GGUF not found"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("to fetch"), std::string::npos) << "a plan before anything was listed: " << r.err;
  EXPECT_FALSE(fs::exists(models() / "acme")) << "an empty folder stayed behind";

  // Bytes that fail their hash are deleted, and so are the folders made for them.
  hub.add_file("acme/tiny-GGUF", "tiny-Q4_K_M.gguf", 3000, 1);
  hub.configure("corrupt=1");
  r = rmm({"pull", "acme/tiny-GGUF"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("sha256 mismatch"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(models() / "acme")) << "an empty folder stayed behind";
  hub.reset();

  // A folder that was there before a failed pull stays; a file URL's plan has its size.
  fs::create_directories(models() / "acme" / "keep");
  r = rmm({"pull", hub.endpoint() + "/acme/tiny-GGUF/resolve/main/missing-Q8_0.gguf", "--dir",
           (models() / "acme" / "keep").string()});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(fs::is_directory(models() / "acme" / "keep"));
  r = rmm({"pull", hub.endpoint() + "/acme/tiny-GGUF/resolve/main/tiny-Q4_K_M.gguf"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("2.93 KiB to fetch"), std::string::npos) << r.err;
  r = rmm({"pull", hub.endpoint() + "/acme/tiny-GGUF/resolve/main/tiny-Q4_K_M.gguf"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("(already downloaded)"), std::string::npos) << r.err;
}
