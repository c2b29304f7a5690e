// The Hub client against the fake hub: search, listings (paged), file
// metadata from the resolve URL, and the Hub's errors turned into advice.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "error_text.hpp"
#include "hub/fake_hub.hpp"
#include "models/hub/hub_client.hpp"

using namespace rmm;
using namespace rmm::hub;

using rmm::test::error_of;

namespace {

class HubClient : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg.endpoint = hub.endpoint();
    hub.add_file("acme/small-GGUF", "small-Q4_K_M.gguf", 1000, 1);
    hub.add_file("acme/small-GGUF", "small-Q8_0.gguf", 2000, 2);
    hub.set_meta("acme/small-GGUF",
                 R"({"downloads": 50, "likes": 3, "lastModified": "2025-02-03T04:05:06.000Z"})");
    hub.add_file("acme/popular-GGUF", "pop-Q4_K_M.gguf", 100, 3);
    hub.set_meta("acme/popular-GGUF", R"({"downloads": 900, "likes": 40})");
    hub.add_file("acme/safetensors-only", "model.safetensors", 100, 4);
    hub.add_file("acme/gated-GGUF", "g-Q4_K_M.gguf", 100, 5);
    hub.set_meta("acme/gated-GGUF", R"({"gated_token": "hf_good"})");
  }
  test::FakeHub hub{"client"};
  HubConfig cfg;
};

}  // namespace

TEST_F(HubClient, SearchSortsByDownloadsAndFiltersGguf) {
  const auto hits = search_models(cfg, "acme", 10);
  ASSERT_EQ(hits.size(), 3u);  // the safetensors-only repo is filtered out
  EXPECT_EQ(hits[0].id, "acme/popular-GGUF");
  EXPECT_EQ(hits[0].downloads, 900u);
  EXPECT_EQ(hits[0].likes, 40u);
  EXPECT_EQ(hits[1].id, "acme/small-GGUF");
  EXPECT_EQ(hits[1].last_modified, "2025-02-03T04:05:06.000Z");
  EXPECT_EQ(search_models(cfg, "acme", 1).size(), 1u);
  EXPECT_TRUE(search_models(cfg, "no such thing", 5).empty());
}

TEST_F(HubClient, ListingFollowsPages) {
  hub.configure("page_size=1");
  hub.add_file("acme/small-GGUF", "sub/extra-Q6_K.gguf", 10, 6);
  const auto files = list_repo_files(cfg, "acme/small-GGUF", "main");
  ASSERT_EQ(files.size(), 3u);
  bool saw_sub = false;
  for (const auto& f : files) {
    EXPECT_EQ(f.sha256.size(), 64u) << f.path;
    if (f.path == "sub/extra-Q6_K.gguf") {
      saw_sub = true;
      EXPECT_EQ(f.size, 10u);
    }
  }
  EXPECT_TRUE(saw_sub);
}

TEST_F(HubClient, FileMetaFromResolveHeaders) {
  const auto sha = hub.add_file("acme/small-GGUF", "small-Q4_K_M.gguf", 1000, 1);
  const auto m = file_meta(cfg, "acme/small-GGUF", "main", "small-Q4_K_M.gguf");
  EXPECT_EQ(m.sha256, sha);
  EXPECT_EQ(m.size, 1000u);
  EXPECT_EQ(m.commit.size(), 40u);
  EXPECT_NE(m.url.find("/cdn/repos/" + sha), std::string::npos) << m.url;
  EXPECT_EQ(m.url.rfind("http://localhost:", 0), 0u) << m.url;  // the CDN is another host
}

TEST_F(HubClient, MissingRepoRevisionAndFile) {
  auto msg = error_of([&] { list_repo_files(cfg, "acme/nope", "main"); });
  EXPECT_NE(msg.find("repo acme/nope not found"), std::string::npos) << msg;
  EXPECT_NE(msg.find("HF_TOKEN"), std::string::npos) << msg;  // anonymous: it may be private
  msg = error_of([&] { list_repo_files(cfg, "acme/small-GGUF", "v9"); });
  EXPECT_NE(msg.find("revision"), std::string::npos) << msg;
  msg = error_of([&] { file_meta(cfg, "acme/small-GGUF", "main", "gone.gguf"); });
  EXPECT_NE(msg.find("file gone.gguf not found in acme/small-GGUF"), std::string::npos) << msg;
}

TEST_F(HubClient, GatedRepoNeedsTheToken) {
  // The listing of a gated repo is public; its files are not.
  EXPECT_EQ(list_repo_files(cfg, "acme/gated-GGUF", "main").size(), 1u);
  auto msg = error_of([&] { file_meta(cfg, "acme/gated-GGUF", "main", "g-Q4_K_M.gguf"); });
  EXPECT_NE(msg.find("gated"), std::string::npos) << msg;
  EXPECT_NE(msg.find("set HF_TOKEN"), std::string::npos) << msg;
  cfg.token = "hf_wrong";
  msg = error_of([&] { file_meta(cfg, "acme/gated-GGUF", "main", "g-Q4_K_M.gguf"); });
  EXPECT_NE(msg.find("HF_TOKEN has no access"), std::string::npos) << msg;
  cfg.token = "hf_good";
  EXPECT_EQ(file_meta(cfg, "acme/gated-GGUF", "main", "g-Q4_K_M.gguf").size, 100u);
}

TEST_F(HubClient, EndpointFromEnvironment) {
  setenv("RMM_HF_ENDPOINT", "http://mirror.example:8080/", 1);
  EXPECT_EQ(HubConfig::from_env().endpoint, "http://mirror.example:8080");
  setenv("RMM_HF_ENDPOINT", "ftp://x", 1);
  EXPECT_THROW(HubConfig::from_env(), Error);
  unsetenv("RMM_HF_ENDPOINT");
  EXPECT_EQ(HubConfig::from_env().endpoint, "https://huggingface.co");
}
