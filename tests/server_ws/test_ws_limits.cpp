// Messages nested past kMaxJsonDepth (64) are refused on their text, before a
// JSON value is built, with an error that says so; the connection and the
// server carry on. A 100,000-deep message (about 600 KB, under the 1 MiB
// message limit) once had to be survived by luck: copying, dumping or
// destroying such a value recurses once per level.
#include <string>

#include "ws_fixture.hpp"

using namespace rmm::test;

namespace {

// {"a":{"a":...1}} with `depth` objects.
std::string deep_objects(int depth) {
  std::string s;
  s.reserve(static_cast<size_t>(depth) * 6 + 1);
  for (int i = 0; i < depth; ++i) s += "{\"a\":";
  s += "1";
  s += std::string(static_cast<size_t>(depth), '}');
  return s;
}

}  // namespace

TEST_F(WsTest, DeeplyNestedMessagesAreRefusedAndTheSocketCarriesOn) {
  auto c = connect();
  const std::string generate_head = R"({"type":"generate","id":"deep","prompt":"x","params":{"stop":)";
  const std::vector<std::string> deep = {
      deep_objects(100000),                         // the whole message
      generate_head + deep_objects(100000) + "}}",  // inside a generate command
      generate_head + deep_objects(63) + "}}",      // 65 levels with the message and params
      std::string(100000, '[') + std::string(100000, ']'),
  };
  for (const auto& text : deep) {
    SCOPED_TRACE(text.substr(0, 80) + "... (" + std::to_string(text.size()) + " bytes)");
    c->send_text(text);
    const auto msgs = until_error(*c);
    ASSERT_EQ(msgs.size(), 1u);
    const auto& e = msgs[0];
    EXPECT_EQ(e["error_type"], "invalid_request") << e.dump();
    EXPECT_EQ(e["message"], "the message is nested deeper than 64 levels") << e.dump();
  }
  // 64 levels are read as JSON: this one fails on the field's type, with its id.
  c->send_text(generate_head + deep_objects(62) + "}}");
  const auto e = until_error(*c).back();
  EXPECT_EQ(e["id"], "deep") << e.dump();
  EXPECT_NE(e["message"].get<std::string>().find("'params.stop' must be a string or a list"),
            std::string::npos)
      << e.dump();

  // A number too large for a double is the client's error too, not the server's (it was "server_error").
  c->send_text(R"({"type":"generate","id":"big","prompt":"x","params":{"temperature":1e400}})");
  const auto big = until_error(*c).back();
  EXPECT_EQ(big["error_type"], "invalid_request") << big.dump();
  EXPECT_NE(big["message"].get<std::string>().find("not valid JSON"), std::string::npos) << big.dump();

  // The same socket still generates, and so does a new one.
  c->send(generate("ok", "Once upon a time", 8, 1));
  auto msgs = until_complete(*c, "ok");
  EXPECT_EQ(of_type(msgs, "token", "ok").size(), 8u);
  EXPECT_EQ(msgs.back()["finish_reason"], "length");
  auto c2 = connect();
  c2->send(generate("ok2", "Once upon a time", 4, 0));
  msgs = until_complete(*c2, "ok2");
  EXPECT_EQ(joined_text(msgs, "ok2"), cli_text("Once upon a time", 4, {"--raw"}));
}
