// `rmm serve` settings: a flag wins over RMM_* environment variables, which win
// over $RMM_HOME/config.toml, which wins over the defaults.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "core/subprocess.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

using namespace rmm::test;

namespace {

nlohmann::json loaded(const ServerProcess& s) {
  const auto r = http_get(s.port(), "/api/models/loaded");
  EXPECT_EQ(r.status, 200) << r.body;
  return r.json().at("models").at(0);
}

}  // namespace

TEST(ServerConfig, FlagOverEnvironmentOverFileOverDefault) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const auto home = temp_dir("serve-config");
  std::ofstream(home / "config.toml")
      << "[serve]\nparallel = 2\nctx_size = 1024\nmodel = \"" << model.string() << "\"\n";
  ScopedEnv rmm_home("RMM_HOME", home.string());
  {
    // File only: the model, 2 slots and 1024 tokens come from config.toml.
    ServerProcess s({"--port", "0", "-t", "1"});
    const auto m = loaded(s);
    EXPECT_EQ(m.at("id"), "stories260k:f32");  // its registry short name
    EXPECT_EQ(m.at("slots"), 2);
    EXPECT_EQ(m.at("context_size"), 1024);
  }
  ScopedEnv parallel("RMM_PARALLEL", "4");
  {
    ServerProcess s({"--port", "0", "-t", "1"});
    EXPECT_EQ(loaded(s).at("slots"), 4);  // the environment beats the file
  }
  {
    ServerProcess s({"--port", "0", "-t", "1", "--parallel", "1"});
    EXPECT_EQ(loaded(s).at("slots"), 1);  // the flag beats both
  }
}

TEST(ServerConfig, BadSettingsNameTheirSource) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  const auto home = temp_dir("serve-config-bad");
  ScopedEnv rmm_home("RMM_HOME", home.string());
  ScopedEnv port("RMM_PORT", "99999");
  const auto r = rmm::run_process({rmm_binary().string(), "serve", "--model", model.string()}, "", 20);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("RMM_PORT"), std::string::npos) << r.err;
}
