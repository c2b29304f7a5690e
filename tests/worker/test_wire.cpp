// The worker wire format: every field of every message survives the trip,
// and a torn or hostile frame is an error, never a crash or a wrong value.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "worker/wire.hpp"

namespace rmm::worker {
namespace {

// Splits an encoded frame into its type and payload the way the reader does.
std::string payload_of(const std::string& frame, MsgType expected) {
  FrameReader fr;
  fr.feed(frame.data(), frame.size());
  MsgType type;
  std::string payload;
  EXPECT_TRUE(fr.next(type, payload));
  EXPECT_EQ(type, expected);
  return payload;
}

engine::GenerateRequest full_request() {
  engine::GenerateRequest q;
  q.prompt = {1, 2, 3, 31999};
  q.max_tokens = 77;
  q.stop = {"\n\n", "", "Ende"};
  q.ignore_eos = true;
  q.visible_special_tokens = {5, 6};
  q.logprobs = true;
  q.top_logprobs = 7;
  q.continue_from = {403, 407, 0};
  auto& s = q.sampling;
  s.temperature = 0.25f;
  s.top_k = 12;
  s.top_p = 0.5f;
  s.min_p = 0.125f;
  s.typical_p = 0.75f;
  s.repeat_penalty = 1.5f;
  s.repeat_last_n = -1;
  s.presence_penalty = -0.5f;
  s.frequency_penalty = 0.375f;
  s.seed = 1234567890123;
  s.logit_bias = {{7, -INFINITY}, {9, 2.5f}};
  s.grammar = "root ::= \"a\"";
  s.json_schema = "{\"type\":\"object\"}";
  s.grammar_lazy = true;
  s.grammar_trigger_patterns = {"<tool_call>", "\\{"};
  s.grammar_trigger_tokens = {42};
  s.grammar_prefill = "{\"";
  return q;
}

TEST(WorkerWire, ASubmitCarriesEveryField) {
  const auto q = full_request();
  const auto payload = payload_of(encode_submit(99, q), MsgType::Submit);
  Reader r(payload);
  EXPECT_EQ(r.u64(), 99u);
  const auto got = decode_request(r);
  r.end();
  EXPECT_EQ(got.prompt, q.prompt);
  EXPECT_EQ(got.max_tokens, q.max_tokens);
  EXPECT_EQ(got.stop, q.stop);
  EXPECT_EQ(got.ignore_eos, q.ignore_eos);
  EXPECT_EQ(got.visible_special_tokens, q.visible_special_tokens);
  EXPECT_EQ(got.logprobs, q.logprobs);
  EXPECT_EQ(got.top_logprobs, q.top_logprobs);
  EXPECT_EQ(got.continue_from, q.continue_from);
  const auto &a = got.sampling, &b = q.sampling;
  EXPECT_EQ(a.temperature, b.temperature);
  EXPECT_EQ(a.top_k, b.top_k);
  EXPECT_EQ(a.top_p, b.top_p);
  EXPECT_EQ(a.min_p, b.min_p);
  EXPECT_EQ(a.typical_p, b.typical_p);
  EXPECT_EQ(a.repeat_penalty, b.repeat_penalty);
  EXPECT_EQ(a.repeat_last_n, b.repeat_last_n);
  EXPECT_EQ(a.presence_penalty, b.presence_penalty);
  EXPECT_EQ(a.frequency_penalty, b.frequency_penalty);
  EXPECT_EQ(a.seed, b.seed);
  ASSERT_EQ(a.logit_bias.size(), 2u);
  EXPECT_EQ(a.logit_bias[0].first, 7);
  EXPECT_TRUE(std::isinf(a.logit_bias[0].second) && a.logit_bias[0].second < 0);
  EXPECT_EQ(a.logit_bias[1], b.logit_bias[1]);
  EXPECT_EQ(a.grammar, b.grammar);
  EXPECT_EQ(a.json_schema, b.json_schema);
  EXPECT_EQ(a.grammar_lazy, b.grammar_lazy);
  EXPECT_EQ(a.grammar_trigger_patterns, b.grammar_trigger_patterns);
  EXPECT_EQ(a.grammar_trigger_tokens, b.grammar_trigger_tokens);
  EXPECT_EQ(a.grammar_prefill, b.grammar_prefill);
}

TEST(WorkerWire, TokensAndResultsCarryEveryField) {
  engine::TokenEvent ev;
  ev.index = 3;
  ev.token = 415;
  ev.text = "h\xC3\xA9";
  ev.piece = std::string("\xC3", 1);
  ev.logprob = -0.75f;
  ev.entropy = 2.125f;
  ev.top = {{415, "a", -0.75f}, {2, "", -3.5f}};
  ev.t_ms = 12.5;
  auto p = payload_of(encode_token(5, ev), MsgType::Token);
  Reader r(p);
  EXPECT_EQ(r.u64(), 5u);
  const auto e = decode_token(r);
  r.end();
  EXPECT_EQ(e.index, 3);
  EXPECT_EQ(e.token, 415);
  EXPECT_EQ(e.text, ev.text);
  EXPECT_EQ(e.piece, ev.piece);
  EXPECT_EQ(e.logprob, ev.logprob);
  EXPECT_EQ(e.entropy, ev.entropy);
  ASSERT_EQ(e.top.size(), 2u);
  EXPECT_EQ(e.top[1].token, 2);
  EXPECT_EQ(e.top[1].text, "");
  EXPECT_EQ(e.top[1].logprob, -3.5f);
  EXPECT_EQ(e.t_ms, 12.5);

  engine::GenerationResult res;
  res.stop_reason = engine::StopReason::Error;
  res.text = "Once upon";
  res.tokens = {403, 407};
  res.timings = {2, 1, 2, 0.5, 1.5, 2.5};
  res.seed = 4000000000u;
  res.error = "boom";
  res.error_kind = ErrorKind::Unavailable;
  res.stop_string = "\n";
  p = payload_of(encode_done(6, res), MsgType::Done);
  Reader r2(p);
  EXPECT_EQ(r2.u64(), 6u);
  const auto d = decode_done(r2);
  r2.end();
  EXPECT_EQ(d.stop_reason, res.stop_reason);
  EXPECT_EQ(d.text, res.text);
  EXPECT_EQ(d.tokens, res.tokens);
  EXPECT_EQ(d.timings.prompt_tokens, 2);
  EXPECT_EQ(d.timings.cached_tokens, 1);
  EXPECT_EQ(d.timings.generated_tokens, 2);
  EXPECT_EQ(d.timings.queue_ms, 0.5);
  EXPECT_EQ(d.timings.prompt_ms, 1.5);
  EXPECT_EQ(d.timings.generation_ms, 2.5);
  EXPECT_EQ(d.seed, res.seed);
  EXPECT_EQ(d.error, res.error);
  EXPECT_EQ(d.error_kind, ErrorKind::Unavailable);
  EXPECT_EQ(d.stop_string, res.stop_string);
}

TEST(WorkerWire, LoadRequestsInfoAndErrorsRoundTrip) {
  LoadRequest l;
  l.model_id = "m";
  l.path = "/models/m.gguf";
  l.gpu_layers = 17;
  l.gpu_device = "CUDA1";
  l.mmap = false;
  l.context = {8192, 64, 1024, 256, 3, 5, true, 1};
  auto p = payload_of(encode(l), MsgType::Init);
  Reader r(p);
  const auto g = decode_load(r);
  r.end();
  EXPECT_EQ(g.model_id, "m");
  EXPECT_EQ(g.path, l.path);
  EXPECT_EQ(g.gpu_layers, 17);
  EXPECT_EQ(g.gpu_device, "CUDA1");
  EXPECT_FALSE(g.mmap);
  EXPECT_EQ(g.context.n_ctx, 8192);
  EXPECT_EQ(g.context.n_seq, 64);
  EXPECT_EQ(g.context.n_batch, 1024);
  EXPECT_EQ(g.context.n_ubatch, 256);
  EXPECT_EQ(g.context.n_threads, 3);
  EXPECT_EQ(g.context.n_threads_batch, 5);
  EXPECT_TRUE(g.context.kv_unified);
  EXPECT_EQ(g.context.flash_attn, 1);

  p = payload_of(encode(WorkerInfo{{4096, 1024, 4}, "llama 8B"}), MsgType::Ready);
  Reader ri(p);
  const auto info = decode_info(ri);
  EXPECT_EQ(info.shape.n_ctx, 4096);
  EXPECT_EQ(info.shape.n_ctx_seq, 1024);
  EXPECT_EQ(info.shape.n_seq, 4);
  EXPECT_EQ(info.description, "llama 8B");

  p = payload_of(encode_error(MsgType::LoadFailed, ErrorKind::OutOfMemory, "too big"), MsgType::LoadFailed);
  Reader re(p);
  const Error e = decode_error(re);
  EXPECT_EQ(e.kind(), ErrorKind::OutOfMemory);
  EXPECT_STREQ(e.what(), "too big");

  p = payload_of(encode_empty(MsgType::CancelAll), MsgType::CancelAll);
  EXPECT_TRUE(p.empty());
}

TEST(WorkerWire, FramesSplitAnywhereInTheStreamComeOutWhole) {
  std::string stream;
  for (int i = 0; i < 50; ++i) {
    engine::TokenEvent ev;
    ev.index = i;
    ev.text = std::string(static_cast<size_t>(i * 37 % 300), 'x');
    stream += encode_token(static_cast<uint64_t>(i), ev);
  }
  for (size_t chunk : {1u, 2u, 3u, 7u, 64u, 4096u}) {
    FrameReader fr;
    int seen = 0;
    MsgType type;
    std::string payload;
    for (size_t at = 0; at < stream.size(); at += chunk) {
      fr.feed(stream.data() + at, std::min(chunk, stream.size() - at));
      while (fr.next(type, payload)) {
        Reader r(payload);
        EXPECT_EQ(r.u64(), static_cast<uint64_t>(seen));
        EXPECT_EQ(decode_token(r).index, seen);
        ++seen;
      }
    }
    EXPECT_EQ(seen, 50) << "chunk " << chunk;
  }
}

TEST(WorkerWire, EveryTruncationOfAMessageIsAnErrorNotAGuess) {
  const auto payload = payload_of(encode_submit(1, full_request()), MsgType::Submit);
  for (size_t n = 0; n < payload.size(); ++n) {
    Reader r(std::string_view(payload).substr(0, n));
    EXPECT_THROW(
        {
          r.u64();
          decode_request(r);
          r.end();
        },
        Error)
        << "cut at " << n;
  }
  // One byte too many is refused as well.
  const std::string longer = payload + "x";
  Reader r(longer);
  r.u64();
  decode_request(r);
  EXPECT_THROW(r.end(), Error);
}

TEST(WorkerWire, HostileLengthsAndValuesAreRefused) {
  // A frame announcing more than the limit.
  std::string huge(5, '\0');
  const uint32_t n = kMaxFrame + 1;
  std::memcpy(huge.data(), &n, 4);
  FrameReader fr;
  fr.feed(huge.data(), huge.size());
  MsgType type;
  std::string payload;
  EXPECT_THROW(fr.next(type, payload), Error);

  // A string length past the payload's end.
  Writer w(MsgType::LoadFailed);
  w.u8(0);
  w.u32(1000000);
  const auto frame = std::move(w).finish();
  Reader r(payload_of(frame, MsgType::LoadFailed));
  EXPECT_THROW(decode_error(r), Error);

  // An error kind and a stop reason that do not exist; a flag that is neither 0 nor 1.
  Writer bad_kind(MsgType::LoadFailed);
  bad_kind.u8(200);
  bad_kind.str("x");
  Reader rk(payload_of(std::move(bad_kind).finish(), MsgType::LoadFailed));
  EXPECT_THROW(decode_error(rk), Error);

  engine::GenerationResult res;
  auto done = payload_of(encode_done(1, res), MsgType::Done);
  done[8] = 99;  // the stop reason, right after the id
  Reader rd(done);
  rd.u64();
  EXPECT_THROW(decode_done(rd), Error);

  LoadRequest l;
  auto load = payload_of(encode(l), MsgType::Init);
  load[4 + 4 + 4 + 4] = 2;  // the mmap flag, after two empty strings, gpu_layers and an empty gpu_device
  Reader rl(load);
  EXPECT_THROW(decode_load(rl), Error);
}

}  // namespace
}  // namespace rmm::worker
