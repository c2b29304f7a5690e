// Bad input on the WebSocket: each gets an error message naming the problem,
// and the socket keeps working. Loads of missing or broken models likewise.
#include <fstream>

#include "support/test_env.hpp"
#include "ws_fixture.hpp"

using namespace rmm::test;

namespace {

struct BadCase {
  std::string payload;
  std::string error_type;
  std::string says;  // a part of the message
  std::string id;    // the id the error carries ("" for none)
};

}  // namespace

TEST_F(WsTest, EveryBadMessageGetsAnErrorAndTheSocketStaysUsable) {
  const std::string long_prompt = [] {
    std::string s;
    for (int i = 0; i < 700; ++i) s += "the dog ran. ";
    return s;
  }();
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');  // no stack overflow
  const std::vector<BadCase> cases = {
      // Refused on the text before parsing (kMaxJsonDepth), so the id is not read.
      {deep, "invalid_request", "nested deeper than 64 levels", ""},
      {R"({"type":"generate","id":"a","prompt":"x","params":{"stop":)" + deep + "}}", "invalid_request",
       "nested deeper than 64 levels", ""},
      {"not json", "invalid_request", "not valid JSON", ""},
      {"", "invalid_request", "not valid JSON", ""},
      {"[1,2]", "invalid_request", "must be a JSON object", ""},
      {"{}", "invalid_request", "'type' is required", ""},
      {R"({"type":7})", "invalid_request", "'type' is required", ""},
      {R"({"type":"dance"})", "invalid_request", "unknown message type 'dance'", ""},
      {R"({"type":"generate","prompt":"x"})", "invalid_request", "'id' is required", ""},
      {R"({"type":"generate","id":5,"prompt":"x"})", "invalid_request", "'id' must be a string", ""},
      {R"({"type":"generate","id":""})", "invalid_request", "'id' must not be empty", ""},
      {R"({"type":"generate","id":"a"})", "invalid_request", "needs 'messages'", "a"},
      {R"({"type":"generate","id":"a","prompt":"x","messages":[]})", "invalid_request", "not both", "a"},
      {R"({"type":"generate","id":"a","prompt":5})", "invalid_request", "'prompt' must be a string", "a"},
      {R"({"type":"generate","id":"a","messages":[]})", "invalid_request", "non-empty list", "a"},
      {R"({"type":"generate","id":"a","messages":[{"role":"wizard","content":"x"}]})", "invalid_request",
       "role 'wizard'", "a"},
      {R"({"type":"generate","id":"a","prompt":"x","params":[]})", "invalid_request",
       "'params' must be an object", "a"},
      {R"({"type":"generate","id":"a","prompt":"x","params":{"temperature":"hot"}})", "invalid_request",
       "'params.temperature' must be a number", "a"},
      {R"({"type":"generate","id":"a","prompt":"x","params":{"temperature":1000}})", "invalid_request",
       "'params.temperature' must be between 0 and 100", "a"},
      {R"({"type":"generate","id":"a","prompt":"x","params":{"top_p":1.5}})", "invalid_request", "top_p",
       "a"},
      {R"({"type":"generate","id":"a","prompt":"x","params":{"max_tokens":1.5}})", "invalid_request",
       "'params.max_tokens' must be an integer", "a"},
      {R"({"type":"generate","id":"a","prompt":"x","params":{"seed":-7}})", "invalid_request",
       "'params.seed' must be between -1", "a"},
      {R"({"type":"generate","id":"a","prompt":"x","params":{"stop":[1]}})", "invalid_request",
       "'params.stop' must be a string or a list", "a"},
      {R"({"type":"generate","id":"a","prompt":"x","params":{"temp":0}})", "invalid_request",
       "unknown field 'temp'", "a"},
      {R"({"type":"generate","id":"a","prompt":"x","alternatives":21})", "invalid_request",
       "'alternatives' must be between 0 and 20", "a"},
      {R"({"type":"generate","id":"a","prompt":"x","alternatives":"3"})", "invalid_request",
       "'alternatives' must be an integer", "a"},
      {R"({"type":"generate","id":"a","prompt":"x","model":"other"})", "not_found", "'other' is not loaded",
       "a"},
      {json{{"type", "generate"}, {"id", "a"}, {"prompt", long_prompt}}.dump(), "invalid_request",
       "holds 2048 here", "a"},
      {R"({"type":"stop","id":"ghost"})", "not_found", "no generation with id 'ghost'", "ghost"},
      {R"({"type":"pause","id":"ghost"})", "not_found", "no generation with id 'ghost'", "ghost"},
      {R"({"type":"resume","id":"ghost"})", "not_found", "no generation with id 'ghost'", "ghost"},
      {R"({"type":"stop"})", "invalid_request", "'id' is required", ""},
      {R"({"type":"stop","id":"x","extra":1})", "invalid_request", "unknown field 'extra'", "x"},
      {R"({"type":"load"})", "invalid_request", "'model' is required", ""},
  };
  auto c = connect();
  for (const auto& bad : cases) {
    c->send_text(bad.payload);
    const auto msgs = until_error(*c);
    ASSERT_EQ(msgs.size(), 1u) << bad.payload;
    const auto& e = msgs[0];
    EXPECT_EQ(e["error_type"], bad.error_type) << bad.payload << " -> " << e.dump();
    EXPECT_NE(e["message"].get<std::string>().find(bad.says), std::string::npos)
        << bad.payload << " -> " << e.dump();
    EXPECT_EQ(e.value("id", ""), bad.id) << bad.payload << " -> " << e.dump();
  }

  c->send_binary(R"({"type":"stop","id":"x"})");
  auto e = until_error(*c).back();
  EXPECT_NE(e["message"].get<std::string>().find("binary messages are not accepted"), std::string::npos) << e;

  c->send_text(std::string(1024 * 1024 + 1, ' '));
  e = until_error(*c).back();
  EXPECT_NE(e["message"].get<std::string>().find("1048577 bytes; the limit is 1048576"), std::string::npos)
      << e;

  // A message of exactly the limit is read (and is then merely not JSON).
  c->send_text(std::string(1024 * 1024, ' '));
  e = until_error(*c).back();
  EXPECT_NE(e["message"].get<std::string>().find("not valid JSON"), std::string::npos) << e;

  // After all that, a generation runs normally.
  c->send(generate("ok", "Once upon a time", 8, 1));
  const auto msgs = until_complete(*c, "ok");
  EXPECT_EQ(of_type(msgs, "token", "ok").size(), 8u);
  EXPECT_EQ(msgs.back()["finish_reason"], "length");
}

TEST_F(WsTest, DuplicateIdIsRefusedWhileTheFirstRuns) {
  auto c = connect();
  c->send(generate("dup", "Once upon a time", 400, 0));
  c->send(generate("dup", "The dog", 8, 0));
  const auto msgs = until_error(*c);
  const auto& e = msgs.back();
  EXPECT_EQ(e["error_type"], "invalid_request");
  EXPECT_EQ(e["id"], "dup");
  EXPECT_NE(e["message"].get<std::string>().find("still running"), std::string::npos) << e;
  c->send({{"type", "stop"}, {"id", "dup"}});
  const auto rest = until_complete(*c, "dup");
  EXPECT_EQ(rest.back()["finish_reason"], "cancelled");
  // Once complete, the id may be used again.
  c->send(generate("dup", "The dog", 8, 0));
  EXPECT_EQ(until_complete(*c, "dup").back()["finish_reason"], "length");
}

TEST_F(WsTest, LoadOfAMissingModelIsAnError) {
  auto c = connect();
  // A path outside the models folders is refused before anything looks at it.
  c->send({{"type", "load"}, {"model", "/no/such/model.gguf"}, {"id", "L"}});
  auto e = until_error(*c).back();
  EXPECT_EQ(e["error_type"], "forbidden");
  EXPECT_EQ(e["id"], "L");
  EXPECT_NE(e["message"].get<std::string>().find("models folders"), std::string::npos) << e;
  c->send({{"type", "load"}, {"model", (models_dir_ / "missing.gguf").string()}, {"id", "M"}});
  e = until_error(*c).back();
  EXPECT_EQ(e["error_type"], "not_found");
  EXPECT_EQ(e["id"], "M");

  c->send({{"type", "load"}, {"model", "no-such-name"}});
  e = until_error(*c).back();
  EXPECT_EQ(e["error_type"], "not_found");
  EXPECT_FALSE(e.contains("id"));

  // A file that is not a GGUF fails in the loader thread; the error still comes back.
  const auto junk = models_dir_ / "junk.gguf";
  std::ofstream(junk) << "this is not a model";
  c->send({{"type", "load"}, {"model", junk.string()}, {"id", "J"}});
  e = until_error(*c).back();
  EXPECT_EQ(e["id"], "J");
  EXPECT_NE(e["error_type"], "not_found");

  // The server still serves (a failed load leaves no model: load the real one again, by its name).
  c->send({{"type", "load"}, {"model", "stories260K"}});
  c->until([](const json& m) { return m["type"] == "load_complete" || m["type"] == "error"; });
  c->send(generate("after", "Once upon a time", 4, 0));
  EXPECT_EQ(until_complete(*c, "after").back()["finish_reason"], "length");
}

TEST_F(WsTest, LoadStreamsProgressThenMetadata) {
  auto c = connect();
  c->send({{"type", "load"}, {"model", "stories260K"}, {"id", "L1"}});
  const auto msgs =
      c->until([](const json& m) { return m["type"] == "load_complete" || m["type"] == "error"; });
  const auto& done = msgs.back();
  ASSERT_EQ(done["type"], "load_complete") << done.dump();
  EXPECT_EQ(done["id"], "L1");
  const auto progress = of_type(msgs, "load_progress");
  ASSERT_FALSE(progress.empty());
  double last = -1;
  for (const auto& p : progress) {
    EXPECT_EQ(p["stage"], "weights");
    EXPECT_GE(p["progress"].get<double>(), last);
    EXPECT_LE(p["progress"].get<double>(), 1.0);
    last = p["progress"].get<double>();
  }
  const auto& md = done["metadata"];
  EXPECT_EQ(md["id"], "stories260k:f32");  // its registry short name
  // Each of the 4 slots holds the model's training context (shared models README).
  EXPECT_EQ(md["context_per_slot"], 2048);
  EXPECT_EQ(md["context_size"], 4 * 2048);
  EXPECT_EQ(md["slots"], 4);
  EXPECT_FALSE(md["description"].get<std::string>().empty());
  c->send(generate("after", "Once upon a time", 4, 0));
  EXPECT_EQ(until_complete(*c, "after").back()["finish_reason"], "length");
}

TEST_F(WsTest, PagesFromOtherOriginsAreRefused) {
  WsClient::Options evil;
  evil.origin = "http://evil.example";
  EXPECT_THROW(connect(evil), std::runtime_error);
  WsClient::Options local;
  local.origin = "http://localhost:5173";
  auto c = connect(local);
  c->send({{"type", "stop"}, {"id", "x"}});
  EXPECT_EQ(until_error(*c).back()["error_type"], "not_found");
}

TEST_F(WsTest, InvalidUtf8IsAProtocolViolationThatClosesOnlyThatSocket) {
  auto bad = connect();
  bad->send_text("{\"type\":\"stop\",\"id\":\"\xff\xfe\"}");
  bad->until_closed(5s);
  EXPECT_EQ(bad->close_code(), 1007);  // Beast's verdict: invalid frame payload data
  auto c = connect();
  c->send(generate("ok", "Once upon a time", 4, 0));
  EXPECT_EQ(until_complete(*c, "ok").back()["finish_reason"], "length");
}
