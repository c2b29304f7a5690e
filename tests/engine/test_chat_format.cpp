// Chat formatting through llama.cpp common, checked against the templates'
// published formats written out by hand.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "engine/chat_format.hpp"
#include "engine/engine_fixture.hpp"

using namespace rmm;
using namespace rmm::test;

TEST(ChatFormat, ChatmlByName) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::ChatFormatter f(*model, "chatml");
  const auto p = f.format({{"system", "Be brief."}, {"user", "Hi"}});
  EXPECT_EQ(
      p.text,
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatFormat, Llama3ByName) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::ChatFormatter f(*model, "llama3");
  const auto p = f.format({{"user", "Hi"}});
  EXPECT_EQ(p.text,
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatFormat, ModelWithoutTemplateFallsBackToChatml) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  ASSERT_TRUE(model->chat_template().empty());
  engine::ChatFormatter f(*model);
  const auto p = f.format({{"user", "Hi"}});
  EXPECT_EQ(p.text, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatFormat, CustomJinjaTemplate) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  engine::ChatFormatter f(*model,
                          "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
                          "{% if add_generation_prompt %}[assistant] {% endif %}");
  EXPECT_EQ(f.format({{"user", "Hi"}, {"assistant", "Hello"}, {"user", "Bye"}}).text,
            "[user] Hi\n[assistant] Hello\n[user] Bye\n[assistant] ");
}

TEST(ChatFormat, UnknownNameAndBadRoleAreClearErrors) {
  RMM_REQUIRE_LOADED_MODEL(model, "stories260K.gguf");
  try {
    engine::ChatFormatter f(*model, "no-such-template");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("chatml"), std::string::npos) << e.what();  // lists the known names
  }
  engine::ChatFormatter f(*model, "chatml");
  EXPECT_THROW(f.format({{"robot", "x"}}), Error);
}
