// The resumable downloader against the fake hub's CDN with injected faults:
// cut connections, ignored ranges, wrong bytes, 5xx, cancellation, a full disk.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <atomic>
#include <random>

#include "core/error.hpp"
#include "hub/fake_hub.hpp"
#include "models/download/disk_space.hpp"
#include "models/download/downloader.hpp"
#include "models/download/http_client.hpp"
#include "models/hub/hub_client.hpp"

using namespace rmm;
using namespace rmm::download;
namespace fs = std::filesystem;

namespace {

class Download : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg.endpoint = hub.endpoint();
    sha = hub.add_file("acme/big-GGUF", "big-Q4_K_M.gguf", kSize, 7);
    url = hub::file_meta(cfg, "acme/big-GGUF", "main", "big-Q4_K_M.gguf").url;
    dest = hub.work() / "big-Q4_K_M.gguf";
    opt.retry_base_ms = 5;
    opt.max_retries = 3;
  }
  static constexpr uint64_t kSize = 1 << 20;
  test::FakeHub hub{"download"};
  hub::HubConfig cfg;
  std::string sha, url;
  fs::path dest;
  DownloadOptions opt;
};

}  // namespace

TEST_F(Download, VerifiedFileAndNoLeftovers) {
  uint64_t last_done = 0;
  opt.on_progress = [&](const Progress& p) {
    EXPECT_GE(p.done, last_done);
    EXPECT_EQ(p.total, kSize);
    last_done = p.done;
  };
  const auto r = download_file(url, dest, {kSize, sha, ""}, opt);
  EXPECT_EQ(r.sha256, sha);
  EXPECT_EQ(last_done, kSize);
  EXPECT_EQ(test::sha256_of_file(dest), sha);
  EXPECT_FALSE(fs::exists(part_path(dest)));
  EXPECT_FALSE(fs::exists(sidecar_path(dest)));
  // A second run finds the verified file and fetches nothing.
  EXPECT_TRUE(download_file(url, dest, {kSize, sha, ""}, opt).already_present);
}

TEST_F(Download, ResumesAfterCutsAtRandomOffsets) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 4; ++round) {
    fs::remove(dest);
    // Every response is cut at a random point of what it sends, 4 times in a row.
    std::string cuts;
    for (int i = 0; i < 4; ++i) {
      if (i) cuts += ',';
      cuts += std::to_string(rng() % (kSize / 3));
    }
    hub.configure("cut_after=" + cuts);
    const auto r = download_file(url, dest, {kSize, sha, ""}, opt);
    EXPECT_EQ(r.attempts, 5) << "round " << round;
    EXPECT_EQ(test::sha256_of_file(dest), sha);
    const std::string log = hub.log();
    EXPECT_NE(log.find("\"range\": \"bytes="), std::string::npos);  // it resumed, it did not restart
  }
}

TEST_F(Download, ResumesAcrossRunsAndRestartsWhenTheServerIgnoresRange) {
  hub.configure("cut_after=300000");
  opt.max_retries = 0;
  EXPECT_THROW(download_file(url, dest, {kSize, sha, ""}, opt), Error);
  ASSERT_EQ(fs::file_size(part_path(dest)), 300000u);  // kept for the next run
  // The next run resumes; the server sends everything (200): the file starts over.
  hub.configure("ignore_range=1");
  const auto r = download_file(url, dest, {kSize, sha, ""}, opt);
  EXPECT_EQ(r.resumed_from, 300000u);
  EXPECT_EQ(test::sha256_of_file(dest), sha);
}

TEST_F(Download, PartOfAnotherFileIsNotResumed) {
  hub.configure("cut_after=500000");
  opt.max_retries = 0;
  EXPECT_THROW(download_file(url, dest, {kSize, sha, ""}, opt), Error);
  ASSERT_TRUE(fs::exists(part_path(dest)));
  // The listing now names another file under the same name: its bytes must not be reused.
  const std::string other = hub.add_file("acme/big-GGUF", "big-Q4_K_M.gguf", kSize, 99);
  const std::string other_url = hub::file_meta(cfg, "acme/big-GGUF", "main", "big-Q4_K_M.gguf").url;
  const auto r = download_file(other_url, dest, {kSize, other, ""}, opt);
  EXPECT_EQ(r.resumed_from, 0u);
  EXPECT_EQ(test::sha256_of_file(dest), other);
}

TEST_F(Download, WrongBytesAreCaughtAndDeleted) {
  hub.configure("corrupt=1");
  try {
    download_file(url, dest, {kSize, sha, ""}, opt);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadFile);
    EXPECT_NE(std::string(e.what()).find("sha256 mismatch"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_FALSE(fs::exists(part_path(dest)));
  EXPECT_FALSE(fs::exists(sidecar_path(dest)));
}

TEST_F(Download, WrongSizeIsCaught) {
  EXPECT_THROW(download_file(url, dest, {kSize + 5, sha, ""}, opt), Error);
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_FALSE(fs::exists(part_path(dest)));
}

TEST_F(Download, RetriesServerErrors) {
  hub.configure("fail_5xx=2");
  EXPECT_EQ(download_file(url, dest, {kSize, sha, ""}, opt).attempts, 3);
  hub.configure("fail_5xx=10");
  fs::remove(dest);
  try {
    download_file(url, dest, {kSize, sha, ""}, opt);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 503"), std::string::npos) << e.what();
  }
}

TEST_F(Download, CancelKeepsThePartForLater) {
  hub.configure("rate=2000000");  // about half a second for the file
  std::atomic<bool> stop{false};
  opt.keep_going = [&] { return !stop.load(); };
  opt.on_progress = [&](const Progress& p) {
    if (p.done > kSize / 4) stop = true;
  };
  try {
    download_file(url, dest, {kSize, sha, ""}, opt);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Cancelled);
  }
  EXPECT_GT(fs::file_size(part_path(dest)), kSize / 4);
  opt.keep_going = {};
  opt.on_progress = {};
  const auto r = download_file(url, dest, {kSize, sha, ""}, opt);
  EXPECT_GT(r.resumed_from, kSize / 4);
  EXPECT_EQ(test::sha256_of_file(dest), sha);
}

TEST_F(Download, TokenNeverReachesTheCdn) {
  opt.bearer_token = "hf_secret";
  opt.token_origin = rmm::download::url_origin(hub.endpoint());
  EXPECT_NO_THROW(download_file(url, dest, {kSize, sha, ""}, opt));  // the CDN answers 400 to a token
  EXPECT_EQ(hub.log().find("\"authorization\": true"), std::string::npos);
}

TEST_F(Download, NotEnoughSpaceIsRefusedUpFront) {
  try {
    ensure_free_space(hub.work(), 1ull << 60);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not enough free disk space"), std::string::npos) << e.what();
  }
}

// A real full disk: a 256 KiB tmpfs (needs mount rights; skipped without them).
TEST_F(Download, FullDiskStopsCleanly) {
  const fs::path small = hub.work() / "small-fs";
  fs::create_directories(small);
  if (::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=256k") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here";
  struct Unmount {
    fs::path p;
    ~Unmount() { ::umount(p.c_str()); }
  } unmount{small};
  const fs::path target = small / "big-Q4_K_M.gguf";
  // Refused before it starts ...
  try {
    download_file(url, target, {kSize, sha, ""}, opt);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not enough free disk space"), std::string::npos) << e.what();
  }
  // ... and stopped when writing fails (size unknown up front, so no check can help).
  opt.check_free_space = false;
  try {
    download_file(url, target, {0, sha, "x"}, opt);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the disk is full"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(part_path(target)));
  EXPECT_FALSE(fs::exists(sidecar_path(target)));
  EXPECT_FALSE(fs::exists(target));
}
