// Server-Sent Events: byte-level framing, chunk objects, the joined deltas
// against the CLI's text, the usage chunk, and 16 streams at once.
#include <thread>

#include "server_fixture.hpp"

using namespace rmm::test;
using nlohmann::json;

namespace {

class ServerStreaming : public ServerSuite {};

const std::string kPrompt = "Once upon a time";

// Checks what every chunk shares and returns the joined text of the deltas.
struct StreamSummary {
  std::string text;
  int content_chunks = 0;
  std::string finish_reason;  // of the last chunk with a choice
  json usage;                 // of the usage chunk, if any
};

StreamSummary summarize(const std::vector<json>& chunks, bool chat) {
  StreamSummary s;
  const std::string object = chat ? "chat.completion.chunk" : "text_completion";
  std::string id;
  bool finished = false;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const json& c = chunks[i];
    SCOPED_TRACE("chunk " + std::to_string(i) + ": " + c.dump());
    EXPECT_EQ(c.value("object", ""), object);
    EXPECT_EQ(c.value("model", ""), kModelId);
    EXPECT_TRUE(c.contains("created") && c["created"].is_number_integer());
    if (i == 0) id = c.value("id", "");
    EXPECT_FALSE(id.empty());
    EXPECT_EQ(c.value("id", ""), id) << "every chunk of a stream has the same id";
    if (!c.contains("choices") || !c["choices"].is_array()) {
      ADD_FAILURE() << "no choices array";
      continue;
    }
    if (c["choices"].empty()) {  // the usage chunk: last, after the finish reason
      EXPECT_TRUE(finished) << "usage chunk before the finish_reason";
      EXPECT_EQ(i, chunks.size() - 1) << "the usage chunk comes last";
      s.usage = c.at("usage");
      continue;
    }
    EXPECT_FALSE(finished) << "a choice after the chunk carrying finish_reason";
    if (c.contains("usage")) {
      EXPECT_TRUE(c["usage"].is_null()) << "usage only in the final chunk";
    }
    if (c["choices"].size() != 1) {
      ADD_FAILURE() << "n is 1: one choice per chunk";
      continue;
    }
    const json& ch = c["choices"][0];
    EXPECT_EQ(ch.value("index", -1), 0);
    std::string piece;
    if (chat) {
      const json& d = ch.at("delta");
      if (d.contains("role")) {
        EXPECT_TRUE(i == 0 && d["role"] == "assistant") << "role only in the first chunk";
      }
      if (i == 0) {
        EXPECT_EQ(d.value("role", ""), "assistant") << "the first chunk carries the role";
      }
      if (d.contains("content") && d["content"].is_string()) piece = d["content"];
    } else {
      piece = ch.at("text");
    }
    s.text += piece;
    if (!piece.empty()) ++s.content_chunks;
    EXPECT_TRUE(ch.contains("finish_reason")) << "OpenAI sends finish_reason: null until the end";
    if (ch.contains("finish_reason") && !ch["finish_reason"].is_null()) {
      finished = true;
      s.finish_reason = ch["finish_reason"];
    }
  }
  EXPECT_TRUE(finished) << "no chunk carried finish_reason";
  return s;
}

void expect_event_stream_head(const SseStream& s) {
  ASSERT_EQ(s.head().status, 200);
  EXPECT_EQ(s.head().header("Content-Type").rfind("text/event-stream", 0), 0u)
      << s.head().header("Content-Type");
}

TEST_F(ServerStreaming, CompletionStreamFramingAndText) {
  SseStream s(
      port(), "/v1/completions",
      {{"model", kModelId}, {"prompt", kPrompt}, {"max_tokens", 20}, {"temperature", 0}, {"stream", true}});
  expect_event_stream_head(s);
  const auto chunks = read_sse_payloads(s);
  // Byte level: nothing but "data: ...\n\n" events.
  const std::string& raw = s.raw();
  for (size_t pos = 0; pos < raw.size();) {
    ASSERT_EQ(raw.compare(pos, 6, "data: "), 0) << "at byte " << pos << ": " << raw.substr(pos, 80);
    const size_t end = raw.find("\n\n", pos);
    ASSERT_NE(end, std::string::npos);
    pos = end + 2;
  }
  const auto s1 = summarize(chunks, false);
  EXPECT_EQ(s1.text, cli_greedy(model(), kPrompt, 20));
  EXPECT_EQ(s1.finish_reason, "length");
  EXPECT_TRUE(s1.usage.is_null()) << "no usage chunk unless include_usage";
  EXPECT_EQ(s1.content_chunks, 20) << "one chunk per token";
}

TEST_F(ServerStreaming, ChatStreamRoleFirstFinishLast) {
  json body = {{"model", kModelId},
               {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
               {"max_tokens", 20},
               {"temperature", 0}};
  const std::string plain = chat(body)["choices"][0]["message"]["content"];
  EXPECT_EQ(plain, cli_greedy(model(), chatml_user("Hi"), 20));
  body["stream"] = true;
  SseStream s(port(), "/v1/chat/completions", body);
  expect_event_stream_head(s);
  const auto summary = summarize(read_sse_payloads(s), true);
  EXPECT_EQ(summary.text, plain);
  EXPECT_EQ(summary.finish_reason, "length");
}

TEST_F(ServerStreaming, IncludeUsageAddsAFinalChunkWithEmptyChoices) {
  for (bool chat_api : {false, true}) {
    json body = {{"model", kModelId},
                 {"max_tokens", 12},
                 {"temperature", 0},
                 {"stream", true},
                 {"stream_options", {{"include_usage", true}}}};
    if (chat_api) {
      body["messages"] = {{{"role", "user"}, {"content", "Hi"}}};
    } else {
      body["prompt"] = kPrompt;
    }
    SCOPED_TRACE(chat_api ? "chat" : "completions");
    SseStream s(port(), chat_api ? "/v1/chat/completions" : "/v1/completions", body);
    expect_event_stream_head(s);
    const auto chunks = read_sse_payloads(s);
    const auto summary = summarize(chunks, chat_api);
    ASSERT_TRUE(summary.usage.is_object()) << "no usage chunk";
    EXPECT_EQ(summary.usage.at("completion_tokens"), 12);
    if (!chat_api) {
      EXPECT_EQ(summary.usage.at("prompt_tokens"), 5);
    }
    EXPECT_EQ(
        summary.usage.at("total_tokens").get<int>(),
        summary.usage.at("prompt_tokens").get<int>() + summary.usage.at("completion_tokens").get<int>());
    EXPECT_EQ(summary.content_chunks, 12);
  }
}

TEST_F(ServerStreaming, StopStringInAStream) {
  SseStream s(port(), "/v1/completions",
              {{"model", kModelId},
               {"prompt", kPrompt},
               {"max_tokens", 40},
               {"temperature", 0},
               {"stop", {"Lily"}},
               {"stream", true}});
  expect_event_stream_head(s);
  const auto summary = summarize(read_sse_payloads(s), false);
  EXPECT_EQ(summary.text, cli_text(model(), kPrompt, {"--temp", "0", "-n", "40", "--stop", "Lily"}));
  EXPECT_EQ(summary.finish_reason, "stop");
}

TEST_F(ServerStreaming, ErrorsBeforeTheStreamAreJsonNotEvents) {
  auto r = http_post_json(port(), "/v1/completions",
                          {{"model", "nope"}, {"prompt", kPrompt}, {"max_tokens", 2}, {"stream", true}});
  expect_openai_error(r, 404);
}

TEST_F(ServerStreaming, SixteenConcurrentStreamsAllCompleteCorrectly) {
  const std::vector<std::string> prompts = {"Once upon a time", "The dog", "Lily and Ben", "One day"};
  constexpr int kStreams = 16, kMaxTokens = 40;
  std::vector<std::string> expected;
  for (const auto& p : prompts) expected.push_back(cli_greedy(model(), p, kMaxTokens));

  struct Outcome {
    int status = 0;
    std::string error;
    StreamSummary summary;
  };
  std::vector<Outcome> outcomes(kStreams);
  std::vector<std::thread> threads;
  const int p = port();
  for (int i = 0; i < kStreams; ++i) {
    threads.emplace_back([&, i] {
      try {
        SseStream s(p, "/v1/completions",
                    {{"model", kModelId},
                     {"prompt", prompts[i % prompts.size()]},
                     {"max_tokens", kMaxTokens},
                     {"temperature", 0},
                     {"stream", true},
                     {"stream_options", {{"include_usage", true}}}},
                    std::chrono::seconds(60));
        outcomes[i].status = s.head().status;
        if (s.head().status == 200) {
          outcomes[i].summary = summarize(read_sse_payloads(s), false);
        } else {
          outcomes[i].error = s.connection().read_body();
        }
      } catch (const std::exception& e) {
        outcomes[i].error = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kStreams; ++i) {
    SCOPED_TRACE("stream " + std::to_string(i));
    const auto& o = outcomes[i];
    ASSERT_EQ(o.status, 200) << o.error;
    EXPECT_EQ(o.summary.text, expected[i % prompts.size()]);
    EXPECT_EQ(o.summary.finish_reason, "length");
    ASSERT_TRUE(o.summary.usage.is_object());
    EXPECT_EQ(o.summary.usage.value("completion_tokens", -1), kMaxTokens);
    EXPECT_EQ(o.summary.content_chunks, kMaxTokens);
  }
}

TEST_F(ServerStreaming, CharactersSplitOverByteTokensArriveWhole) {
  // The schema forces "☕", which this 512-token vocabulary spells with three
  // byte tokens: no delta may carry a partial character (the JSON parser
  // rejects invalid UTF-8), and the pieces join to the whole text.
  const json schema = {{"type", "string"}, {"enum", {"café ☕"}}};
  json body = {{"model", kModelId},
               {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
               {"max_tokens", 30},
               {"temperature", 0},
               {"response_format",
                {{"type", "json_schema"}, {"json_schema", {{"name", "drink"}, {"schema", schema}}}}}};
  const std::string plain = chat(body)["choices"][0]["message"]["content"];
  EXPECT_EQ(plain, "\"café ☕\"");
  EXPECT_EQ(plain, cli_text(model(), chatml_user("Hi"), {"--temp", "0", "-n", "30", "-j", schema.dump()}));
  body["stream"] = true;
  SseStream s(port(), "/v1/chat/completions", body);
  expect_event_stream_head(s);
  const auto summary = summarize(read_sse_payloads(s), true);
  EXPECT_EQ(summary.text, plain);
  EXPECT_EQ(summary.finish_reason, "stop");
}

TEST_F(ServerStreaming, ClientsThatHangUpDoNotDisturbTheOthers) {
  const std::string expected = cli_greedy(model(), kPrompt, 60);
  const json body = {
      {"model", kModelId}, {"prompt", kPrompt}, {"max_tokens", 60}, {"temperature", 0}, {"stream", true}};
  std::vector<std::unique_ptr<SseStream>> streams;
  for (int i = 0; i < 6; ++i) {
    streams.push_back(std::make_unique<SseStream>(port(), "/v1/completions", body));
    ASSERT_EQ(streams.back()->head().status, 200);
  }
  for (auto& s : streams) ASSERT_TRUE(s->next_event().has_value());
  for (size_t i = 0; i < streams.size(); i += 2) streams[i]->close();  // every other client leaves
  for (size_t i = 1; i < streams.size(); i += 2) {
    SCOPED_TRACE("stream " + std::to_string(i));
    auto chunks = read_sse_payloads(*streams[i]);
    // The first event was consumed above: put it back in front.
    const std::string first = streams[i]->raw().substr(0, streams[i]->raw().find("\n\n"));
    chunks.insert(chunks.begin(), json::parse(first.substr(6)));
    const auto summary = summarize(chunks, false);
    EXPECT_EQ(summary.text, expected);
    EXPECT_EQ(summary.finish_reason, "length");
  }
  EXPECT_EQ(completion({{"prompt", kPrompt}, {"max_tokens", 5}, {"temperature", 0}})["choices"][0]["text"],
            cli_greedy(model(), kPrompt, 5));
}

}  // namespace
