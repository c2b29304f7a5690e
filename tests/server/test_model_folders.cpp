// Folders of model files added as they are (GET/POST/DELETE
// /api/models/folders): the models in one are listed, served by name and
// loadable by a path inside it; folders that must not become models folders
// are refused with a status and a message that say why; removing one forgets
// its models and keeps their files; only an admin key may change the list.
// Models are forged tiny llama models.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/subprocess.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

namespace rmm::test {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// `rmm forge` writes OUT (its folders made first) with this seed.
fs::path forge(const fs::path& out, int seed) {
  fs::create_directories(out.parent_path());
  return forge_model(out.parent_path(), out.stem().string(), {"--seed", std::to_string(seed)});
}

class ModelFolders : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("model_folders");
    models_ = dir_ / "models";
    forge(models_ / "main.gguf", 1);
    // An LM Studio-like tree: publisher/repo/file.
    outside_ = dir_ / "lmstudio";
    added_ = forge(outside_ / "Publisher" / "Repo" / "deep.gguf", 2);
    db_ = (dir_ / "rmm.db").string();
  }
  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "server output:\n" << server_->output() << "\n";
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void start() {
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{
        "--host", "127.0.0.1", "--port", "0", "-t", "1", "--models-dir", models_.string(), "--parallel", "1",
        "--ctx-size", "256", "--no-cache", "--database", db_});
  }
  HttpResponse add(const json& body, Headers headers = {}) {
    headers.emplace_back("Content-Type", "application/json");
    return http_request(server_->port(), "POST", "/api/models/folders", body.dump(), headers);
  }
  HttpResponse remove(const std::string& path, const Headers& headers = {}) {
    std::string q;
    for (unsigned char c : path) {  // percent-encoded, as a browser's URLSearchParams would
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
        q += static_cast<char>(c);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        q += buf;
      }
    }
    return http_request(server_->port(), "DELETE", "/api/models/folders?path=" + q, "", headers);
  }
  json folders() {
    const auto r = http_get(server_->port(), "/api/models/folders");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["folders"];
  }
  bool listed(const std::string& id) {
    const json all = http_get(server_->port(), "/api/models").json();
    for (const auto& m : all["models"])
      if (m["id"] == id) return true;
    return false;
  }
  HttpResponse complete(const std::string& model) {
    return http_post_json(server_->port(), "/v1/completions",
                          {{"model", model}, {"prompt", "Once"}, {"max_tokens", 2}, {"temperature", 0}});
  }

  fs::path dir_, models_, outside_, added_;
  std::string db_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ModelFolders, AddsAFolderAsItIsAndServesItsModels) {
  start();
  ASSERT_EQ(folders().size(), 1u);
  EXPECT_EQ(folders()[0]["source"], "main");
  EXPECT_FALSE(listed("deep:q8_0"));
  // Before: a path outside the models folders is refused without looking at it.
  EXPECT_EQ(complete(added_.string()).status, 403);

  const auto r = add({{"path", outside_.string()}});
  ASSERT_EQ(r.status, 201) << r.body;
  const json body = r.json();
  EXPECT_EQ(body["folder"]["path"], fs::canonical(outside_).string());
  EXPECT_EQ(body["folder"]["source"], "added");
  EXPECT_EQ(body["folder"]["models"], 1);
  ASSERT_EQ(body["models"].size(), 1u) << r.body;
  EXPECT_EQ(body["models"][0]["id"], "deep:q8_0");
  EXPECT_EQ(body["models"][0]["path"], fs::canonical(added_).string());

  const json now = folders();
  ASSERT_EQ(now.size(), 2u);
  EXPECT_EQ(now[1]["path"], fs::canonical(outside_).string());
  EXPECT_EQ(now[1]["models"], 1);
  EXPECT_TRUE(now[1]["exists"]);
  EXPECT_TRUE(listed("deep:q8_0"));
  // Served by name, and by a path inside the added folder.
  const auto by_name = complete("deep:q8_0");
  ASSERT_EQ(by_name.status, 200) << by_name.body;
  EXPECT_EQ(by_name.json()["model"], "deep:q8_0");
  EXPECT_EQ(complete(added_.string()).status, 200);

  // Kept in the database: a restarted server still scans it, and so does the CLI.
  server_.reset();
  start();
  EXPECT_TRUE(listed("deep:q8_0"));
  const auto cli = run_process({rmm_binary().string(), "models", "folders", "--database", db_});
  EXPECT_NE(cli.out.find(fs::canonical(outside_).string()), std::string::npos) << cli.out << cli.err;
}

TEST_F(ModelFolders, RefusesFoldersThatCannotBeModelsFolders) {
  forge(dir_ / "file-not-folder.gguf", 3);
  fs::create_directories(dir_ / "empty" / "sub");
  std::ofstream(dir_ / "empty" / "sub" / "notes.txt") << "private notes";
  start();
  struct Case {
    json body;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {json::object(), 400, "'path'"},
      {{{"path", 42}}, 400, "'path' must be a string"},
      {{{"path", "relative/models"}}, 400, "absolute path"},
      {{{"path", (dir_ / "missing").string()}}, 404, "no folder at"},
      {{{"path", (dir_ / "file-not-folder.gguf").string()}}, 400, "is not a folder"},
      {{{"path", "/"}}, 403, "root of the file system"},
      {{{"path", "/proc"}}, 403, "system folder"},
      {{{"path", (dir_ / "empty").string()}}, 400, "no model files in"},
      {{{"path", models_.string()}}, 400, "a models folder already"},
      {{{"path", (models_ / ".." / "models").string()}}, 400, "a models folder already"},
      {{{"path", std::string(5000, '/')}}, 400, "not a usable path"},
  };
  for (const auto& c : cases) {
    const auto r = add(c.body);
    EXPECT_EQ(r.status, c.status) << c.body.dump() << " -> " << r.body;
    const json err = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(err.is_object() && err.contains("error")) << r.body;
    EXPECT_NE(err["error"]["message"].get<std::string>().find(c.says), std::string::npos) << r.body;
    // What other files hold never comes back.
    EXPECT_EQ(r.body.find("private notes"), std::string::npos);
  }
  // Added once; then the folder and anything inside it are known already.
  ASSERT_EQ(add({{"path", outside_.string()}}).status, 201);
  EXPECT_EQ(add({{"path", outside_.string()}}).status, 400);
  const auto inner = add({{"path", (outside_ / "Publisher").string()}});
  EXPECT_EQ(inner.status, 400);
  EXPECT_NE(inner.body.find("scanned already"), std::string::npos) << inner.body;
  EXPECT_EQ(folders().size(), 2u);
}

TEST_F(ModelFolders, RemovingAFolderForgetsItsModelsAndKeepsTheFiles) {
  start();
  ASSERT_EQ(add({{"path", outside_.string()}}).status, 201);
  ASSERT_TRUE(listed("deep:q8_0"));
  const auto r = remove(fs::canonical(outside_).string());
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json()["models_forgotten"].size(), 1u);
  EXPECT_EQ(r.json()["models_forgotten"][0]["id"], "deep:q8_0");
  EXPECT_TRUE(fs::exists(added_));
  EXPECT_FALSE(listed("deep:q8_0"));
  EXPECT_EQ(folders().size(), 1u);
  EXPECT_EQ(complete(added_.string()).status, 403) << "its paths are outside the models folders again";

  EXPECT_EQ(remove(fs::canonical(outside_).string()).status, 404);
  const auto main = remove(models_.string());
  EXPECT_EQ(main.status, 400);
  EXPECT_NE(main.body.find("configured models folder"), std::string::npos) << main.body;
  EXPECT_EQ(http_request(server_->port(), "DELETE", "/api/models/folders").status, 400);
  // The main folder's model is untouched.
  EXPECT_TRUE(listed("main:q8_0"));
}

TEST_F(ModelFolders, OnlyAnAdminKeyChangesTheList) {
  auto key = [&](const std::string& name, const std::string& scope) {
    const auto r =
        run_process({rmm_binary().string(), "keys", "create", name, "--database", db_, "--scope", scope});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string k = r.out;
    while (!k.empty() && (k.back() == '\n' || k.back() == '\r')) k.pop_back();
    return k;
  };
  const std::string admin = key("ops", "admin");
  const std::string gen = key("app", "generate");
  const std::string reader = key("dash", "read");
  start();
  auto bearer = [](const std::string& k) { return Headers{{"Authorization", "Bearer " + k}}; };
  EXPECT_EQ(add({{"path", outside_.string()}}).status, 401);
  EXPECT_EQ(add({{"path", outside_.string()}}, bearer(reader)).status, 403);
  EXPECT_EQ(add({{"path", outside_.string()}}, bearer(gen)).status, 403);
  EXPECT_EQ(http_request(server_->port(), "GET", "/api/models/folders", "", bearer(reader)).status, 200);
  EXPECT_EQ(add({{"path", outside_.string()}}, bearer(admin)).status, 201);
  EXPECT_EQ(remove(fs::canonical(outside_).string(), bearer(gen)).status, 403);
  EXPECT_EQ(remove(fs::canonical(outside_).string(), bearer(admin)).status, 200);
}

}  // namespace
}  // namespace rmm::test
