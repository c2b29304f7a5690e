// The message parser and builders alone, without a server.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "server/ws/protocol.hpp"
#include "server/ws/ws_routes.hpp"

using namespace rmm;
using namespace rmm::server::ws;
using json = nlohmann::json;

TEST(WsProtocol, GenerateWithAllParams) {
  const auto cmd = parse_command(R"({"type":"generate","id":"g","prompt":"hi","alternatives":5,
    "params":{"temperature":0.5,"top_p":0.9,"top_k":7,"min_p":0.1,"max_tokens":33,"seed":42,"stop":["a","b"],
              "repeat_penalty":1.1,"presence_penalty":0.2,"frequency_penalty":-0.3}})");
  const auto& g = std::get<GenerateCommand>(cmd);
  EXPECT_EQ(g.id, "g");
  EXPECT_FALSE(g.chat);
  EXPECT_EQ(g.prompt, "hi");
  const auto& r = g.request;
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_EQ(r.sampling.top_k, 7);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.1f);
  EXPECT_EQ(r.max_tokens, 33);
  EXPECT_EQ(r.sampling.seed, 42);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_FLOAT_EQ(r.sampling.repeat_penalty, 1.1f);
  EXPECT_FLOAT_EQ(r.sampling.presence_penalty, 0.2f);
  EXPECT_FLOAT_EQ(r.sampling.frequency_penalty, -0.3f);
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 5);
}

TEST(WsProtocol, DefaultsAreTheEngines) {
  const auto g = std::get<GenerateCommand>(parse_command(R"({"type":"generate","id":"g","prompt":"hi"})"));
  const engine::SamplingParams defaults;
  EXPECT_EQ(g.request.sampling.temperature, defaults.temperature);
  EXPECT_EQ(g.request.sampling.top_k, defaults.top_k);
  EXPECT_EQ(g.request.max_tokens, -1);
  EXPECT_TRUE(g.request.logprobs);  // always on: the stream is about them
  EXPECT_EQ(g.request.top_logprobs, 0);
}

TEST(WsProtocol, MessagesAndControls) {
  const auto g = std::get<GenerateCommand>(parse_command(
      R"({"type":"generate","id":"c","messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}]})"));
  EXPECT_TRUE(g.chat);
  ASSERT_EQ(g.messages.size(), 2u);
  EXPECT_EQ(g.messages[1].role, "user");
  EXPECT_EQ(g.messages[1].content, "u");
  const auto stop = std::get<ControlCommand>(parse_command(R"({"type":"stop","id":"c"})"));
  EXPECT_EQ(stop.kind, ControlCommand::Kind::Stop);
  EXPECT_EQ(std::get<ControlCommand>(parse_command(R"({"type":"pause","id":"c"})")).kind,
            ControlCommand::Kind::Pause);
  EXPECT_EQ(std::get<ControlCommand>(parse_command(R"({"type":"resume","id":"c"})")).kind,
            ControlCommand::Kind::Resume);
  const auto load = std::get<LoadCommand>(parse_command(R"({"type":"load","model":"m.gguf"})"));
  EXPECT_EQ(load.model, "m.gguf");
  EXPECT_EQ(load.id, "");
}

TEST(WsProtocol, ErrorsNameTheFieldAndKeepTheId) {
  try {
    parse_command(R"({"type":"generate","id":"x","prompt":"p","params":{"top_k":-1}})");
    FAIL();
  } catch (const ProtocolError& e) {
    EXPECT_EQ(e.error_type, "invalid_request");
    EXPECT_EQ(e.id, "x");
    EXPECT_STREQ(e.what(), "'params.top_k' must be between 0 and 2147483647");
  }
  EXPECT_THROW(parse_command(R"({"type":"generate","id":"x","prompt":"p","params":{"max_tokens":1e30}})"),
               ProtocolError);
  EXPECT_THROW(
      parse_command(R"({"type":"generate","id":"x","prompt":"p","params":{"seed":18446744073709551615}})"),
      ProtocolError);
  EXPECT_THROW(parse_command(std::string(R"({"type":"stop","id":")") + std::string(300, 'a') + "\"}"),
               ProtocolError);
  EXPECT_THROW(parse_command(R"({"type":"generate","id":"x","prompt":"p","params":{"stop":""}})"),
               ProtocolError);
}

TEST(WsProtocol, TokenMessageShape) {
  engine::TokenEvent ev;
  ev.index = 3;
  ev.token = 42;
  ev.text = "hi";
  ev.logprob = -0.5f;
  ev.top = {{42, "hi", -0.5f}, {7, std::string("\xe2\x82", 2), -1.5f}, {9, "x", -INFINITY}};
  ev.t_ms = 12.5;
  const auto j = json::parse(token_message("g", ev));
  EXPECT_EQ(j["type"], "token");
  EXPECT_EQ(j["id"], "g");
  EXPECT_EQ(j["index"], 3);
  EXPECT_EQ(j["token_id"], 42);
  EXPECT_EQ(j["text"], "hi");
  EXPECT_DOUBLE_EQ(j["logprob"].get<double>(), -0.5);
  EXPECT_DOUBLE_EQ(j["t_ms"].get<double>(), 12.5);
  ASSERT_EQ(j["alternatives"].size(), 3u);
  EXPECT_EQ(j["alternatives"][1]["text"], "\xef\xbf\xbd");  // a partial character becomes U+FFFD
  EXPECT_TRUE(j["alternatives"][2]["logprob"].is_null());   // -inf has no JSON spelling
}

TEST(WsProtocol, CompleteMessageShape) {
  engine::GenerationResult r;
  r.stop_reason = engine::StopReason::EndOfGeneration;
  r.timings.prompt_tokens = 5;
  r.timings.generated_tokens = 7;
  r.timings.cached_tokens = 2;
  const auto j = json::parse(complete_message("g", r));
  EXPECT_EQ(j["finish_reason"], "stop");
  EXPECT_EQ(j["usage"], (json{{"prompt_tokens", 5}, {"completion_tokens", 7}, {"total_tokens", 12}}));
  EXPECT_EQ(j["timings"]["cached_tokens"], 2);
  r.stop_reason = engine::StopReason::Error;
  r.error = "boom";
  const auto e = json::parse(complete_message("g", r));
  EXPECT_EQ(e["finish_reason"], "error");
  EXPECT_EQ(e["message"], "boom");
  EXPECT_STREQ(finish_reason(engine::StopReason::Length), "length");
  EXPECT_STREQ(finish_reason(engine::StopReason::StopString), "stop");
  EXPECT_STREQ(finish_reason(engine::StopReason::Cancelled), "cancelled");
}

TEST(WsProtocol, ErrorMessageShape) {
  EXPECT_EQ(json::parse(error_message("not_found", "gone", "g")),
            (json{{"type", "error"}, {"error_type", "not_found"}, {"message", "gone"}, {"id", "g"}}));
  EXPECT_FALSE(json::parse(error_message("invalid_request", "bad")).contains("id"));
}

TEST(WsProtocol, Origins) {
  server::Request req;
  EXPECT_TRUE(origin_allowed(req, {}));  // no Origin: not a browser
  for (const char* ok : {"http://localhost", "http://localhost:5173", "http://127.0.0.1:8080",
                         "http://[::1]:3000", "https://localhost"}) {
    req.set(boost::beast::http::field::origin, ok);
    EXPECT_TRUE(origin_allowed(req, {})) << ok;
  }
  for (const char* bad :
       {"http://evil.example", "http://localhost.evil.example", "null", "http://127.0.0.1.nip.io"}) {
    req.set(boost::beast::http::field::origin, bad);
    EXPECT_FALSE(origin_allowed(req, {})) << bad;
  }
  req.set(boost::beast::http::field::origin, "http://app.example");
  EXPECT_TRUE(origin_allowed(req, {"http://app.example"}));
  EXPECT_TRUE(origin_allowed(req, {"*"}));
}
