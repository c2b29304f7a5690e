// One name per model (issue 11): the server shows each model by its registry
// short name, so two files that share a file name are two ids, and each id
// reaches its own model in /v1/models, chats, unloads and /api/models/loaded.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

namespace rmm::test {
namespace {

using json = nlohmann::json;

TEST(ModelNames, TwoFilesNamedModelGgufAreTwoModelsWithTheirOwnIds) {
  RMM_REQUIRE_SHARED_MODEL(small, "stories260K.gguf");
  RMM_REQUIRE_SHARED_MODEL(other, "TinyStories-656K-Q8_0.gguf");
  const auto dir = temp_dir("model_names");
  std::filesystem::create_directories(dir / "sub");
  std::filesystem::copy_file(small, dir / "model.gguf");
  std::filesystem::copy_file(other, dir / "sub" / "model.gguf");
  ServerProcess server(
      {"--host", "127.0.0.1", "--port", "0", "-t", "1", "--parallel", "1", "--models-dir", dir.string()});
  const int port = server.port();
  auto ids = [&] {
    std::set<std::string> out;
    const json j = http_get(port, "/v1/models").json();
    for (const auto& m : j["data"]) out.insert(m["id"].get<std::string>());
    return out;
  };
  auto loaded = [&] {
    std::set<std::string> out;
    const json j = http_get(port, "/api/models/loaded").json();
    for (const auto& m : j["models"]) out.insert(m["id"].get<std::string>());
    return out;
  };

  const auto listed = ids();
  ASSERT_EQ(listed.size(), 2u) << server.output();
  EXPECT_EQ(listed.count("model"), 0u);        // the shared stem is no id
  std::map<std::string, std::string> path_of;  // by id: the file that answered
  for (const auto& id : listed) {
    const auto one = http_get(port, "/v1/models/" + id);
    ASSERT_EQ(one.status, 200) << one.body;
    EXPECT_EQ(one.json()["id"], id);
    const auto r = http_post_json(port, "/v1/chat/completions",
                                  {{"model", id},
                                   {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                                   {"max_tokens", 2},
                                   {"temperature", 0}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["model"], id);
    const json now =
        http_get(port, "/api/models/loaded").json();  // kept: a loop over a temporary would dangle
    for (const auto& m : now["models"]) {
      if (m["id"] == id) path_of[id] = m["path"];
    }
  }
  EXPECT_EQ(loaded(), listed);
  ASSERT_EQ(path_of.size(), 2u);
  EXPECT_NE(path_of.begin()->second, path_of.rbegin()->second);  // two files, not one twice

  // The shared file name is ambiguous, so it reaches neither by chance.
  const auto ambiguous = http_post_json(port, "/api/models/unload", {{"model", "model"}});
  EXPECT_NE(ambiguous.status, 200) << ambiguous.body;
  EXPECT_EQ(loaded(), listed);

  // Unloading one by its id leaves the other.
  const std::string first = *listed.begin(), second = *listed.rbegin();
  const auto unloaded = http_post_json(port, "/api/models/unload", {{"model", first}});
  ASSERT_EQ(unloaded.status, 200) << unloaded.body;
  EXPECT_EQ(unloaded.json()["unloaded"], first);
  EXPECT_EQ(loaded(), std::set<std::string>{second});
  const auto r =
      http_post_json(port, "/v1/completions", {{"model", second}, {"prompt", "Once"}, {"max_tokens", 2}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["model"], second);
  EXPECT_EQ(loaded(), std::set<std::string>{second});
}

}  // namespace
}  // namespace rmm::test
