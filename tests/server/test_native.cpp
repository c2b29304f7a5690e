// Native model routes: names only, never paths.
#include <gtest/gtest.h>

#include "http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

using namespace rmm::test;

TEST(ServerNative, ModelInfoByNameAndNoOtherFiles) {
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  ServerProcess s({"--model", model.string(), "--port", "0", "-t", "1", "--models-dir",
                   temp_dir("native-models").string()});
  const auto info = http_get(s.port(), "/api/models/stories260K/info");
  ASSERT_EQ(info.status, 200) << info.body;
  // ../shared/models/README.md: 292,800 parameters, context 2048, all F32.
  EXPECT_EQ(info.json().at("parameters"), 292800);
  EXPECT_EQ(info.json().at("context_length"), 2048);
  for (const char* name : {"README.md", "..", "stories260K.gguf.bak", "%2E%2E"}) {
    const auto r = http_get(s.port(), std::string("/api/models/") + name + "/info");
    EXPECT_EQ(r.status, 404) << name << ": " << r.body;
  }
}
