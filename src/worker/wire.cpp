#include "worker/wire.hpp"

#include <cmath>
#include <cstring>
#include <limits>

#include "engine/parameters.hpp"

namespace rmm::worker {

namespace {

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorKind::Internal, "malformed worker message: " + what);
}

ErrorKind error_kind(uint8_t v) {
  if (v > static_cast<uint8_t>(ErrorKind::Internal)) bad("unknown error kind " + std::to_string(v));
  return static_cast<ErrorKind>(v);
}

engine::StopReason stop_reason(uint8_t v) {
  if (v > static_cast<uint8_t>(engine::StopReason::Error)) bad("unknown stop reason " + std::to_string(v));
  return static_cast<engine::StopReason>(v);
}

}  // namespace

Writer::Writer(MsgType type) {
  bytes_.resize(sizeof(uint32_t));
  u8(static_cast<uint8_t>(type));
}

void Writer::str(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  raw(s.data(), s.size());
}

void Writer::strs(const std::vector<std::string>& v) {
  u32(static_cast<uint32_t>(v.size()));
  for (const auto& s : v) str(s);
}

void Writer::tokens(const std::vector<engine::Token>& v) {
  u32(static_cast<uint32_t>(v.size()));
  raw(v.data(), v.size() * sizeof(engine::Token));
}

std::string Writer::finish() && {
  const size_t payload = bytes_.size() - sizeof(uint32_t) - 1;  // after the type byte
  if (payload > kMaxFrame)
    throw Error(ErrorKind::Internal,
                "worker message of " + std::to_string(payload) + " bytes is over the limit");
  const auto n = static_cast<uint32_t>(payload);
  std::memcpy(bytes_.data(), &n, sizeof n);
  return std::move(bytes_);
}

void Reader::raw(void* out, size_t n) {
  if (p_.size() - at_ < n) bad("cut short");
  if (n == 0) return;  // an empty list's data() may be null
  std::memcpy(out, p_.data() + at_, n);
  at_ += n;
}

#define RMM_WIRE_GET(name, type) \
  type Reader::name() {          \
    type v;                      \
    raw(&v, sizeof v);           \
    return v;                    \
  }
RMM_WIRE_GET(u8, uint8_t)
RMM_WIRE_GET(u32, uint32_t)
RMM_WIRE_GET(i32, int32_t)
RMM_WIRE_GET(u64, uint64_t)
RMM_WIRE_GET(i64, int64_t)
RMM_WIRE_GET(f32, float)
RMM_WIRE_GET(f64, double)
#undef RMM_WIRE_GET

bool Reader::boolean() {
  const uint8_t v = u8();
  if (v > 1) bad("a flag of " + std::to_string(v));
  return v == 1;
}

size_t Reader::count(size_t item_size) {
  const uint32_t n = u32();
  if (n > (p_.size() - at_) / item_size) bad("a length of " + std::to_string(n) + " past the frame's end");
  return n;
}

std::string Reader::str() {
  const size_t n = count(1);
  std::string s(p_.substr(at_, n));
  at_ += n;
  return s;
}

std::vector<std::string> Reader::strs() {
  const size_t n = count(sizeof(uint32_t));  // each string has at least its length
  std::vector<std::string> v;
  v.reserve(n);
  for (size_t i = 0; i < n; ++i) v.push_back(str());
  return v;
}

std::vector<engine::Token> Reader::tokens() {
  const size_t n = count(sizeof(engine::Token));
  std::vector<engine::Token> v(n);
  raw(v.data(), n * sizeof(engine::Token));
  return v;
}

void Reader::end() const {
  if (at_ != p_.size()) bad(std::to_string(p_.size() - at_) + " bytes left over");
}

bool FrameReader::next(MsgType& type, std::string& payload) {
  const size_t avail = buf_.size() - at_;
  if (avail < sizeof(uint32_t) + 1) return false;
  uint32_t n;
  std::memcpy(&n, buf_.data() + at_, sizeof n);
  if (n > kMaxFrame) bad("a frame of " + std::to_string(n) + " bytes");
  if (avail < sizeof n + 1 + n) return false;
  type = static_cast<MsgType>(static_cast<uint8_t>(buf_[at_ + sizeof n]));
  payload.assign(buf_, at_ + sizeof n + 1, n);
  at_ += sizeof n + 1 + n;
  // Compact once the consumed part dominates, so the buffer stays small.
  if (at_ == buf_.size()) {
    buf_.clear();
    at_ = 0;
  } else if (at_ > 65536 && at_ > buf_.size() / 2) {
    buf_.erase(0, at_);
    at_ = 0;
  }
  return true;
}

// ---- messages ----
// Structured bindings name every field: a field added to one of these
// structs breaks the build here until the wire carries it (GenerateRequest's
// are checked against the parameter table in engine/parameters.cpp).

std::string encode(const LoadRequest& r) {
  const auto& [model_id, path, gpu_layers, gpu_device, mmap, context] = r;
  const auto& [n_ctx, n_seq, n_batch, n_ubatch, n_threads, n_threads_batch, kv_unified, flash_attn] = context;
  Writer w(MsgType::Init);
  w.str(model_id);
  w.str(path);
  w.i32(gpu_layers);
  w.str(gpu_device);
  w.boolean(mmap);
  for (int v : {n_ctx, n_seq, n_batch, n_ubatch, n_threads, n_threads_batch, flash_attn}) w.i32(v);
  w.boolean(kv_unified);
  return std::move(w).finish();
}

LoadRequest decode_load(Reader& r) {
  LoadRequest out;
  out.model_id = r.str();
  out.path = r.str();
  out.gpu_layers = r.i32();
  out.gpu_device = r.str();
  out.mmap = r.boolean();
  auto& c = out.context;
  for (int* v :
       {&c.n_ctx, &c.n_seq, &c.n_batch, &c.n_ubatch, &c.n_threads, &c.n_threads_batch, &c.flash_attn})
    *v = r.i32();
  c.kv_unified = r.boolean();
  return out;
}

std::string encode(const WorkerInfo& i) {
  const auto& [shape, description] = i;
  const auto& [n_ctx, n_ctx_seq, n_seq] = shape;
  Writer w(MsgType::Ready);
  w.i32(n_ctx);
  w.i32(n_ctx_seq);
  w.i32(n_seq);
  w.str(description);
  return std::move(w).finish();
}

WorkerInfo decode_info(Reader& r) {
  WorkerInfo i;
  i.shape.n_ctx = r.i32();
  i.shape.n_ctx_seq = r.i32();
  i.shape.n_seq = r.i32();
  i.description = r.str();
  return i;
}

// The table's parameters (engine/parameters.hpp) go first, each by its own
// type; then the fields that engine/parameters.cpp counts as not in the table.
std::string encode_submit(uint64_t id, const engine::GenerateRequest& req) {
  Writer w(MsgType::Submit);
  w.u64(id);
  w.tokens(req.prompt);
  for (const auto& p : engine::parameters()) {
    engine::visit_member(p, req, [&](const auto& m) {
      using T = std::decay_t<decltype(m)>;
      if constexpr (std::is_same_v<T, float>)
        w.f32(m);
      else if constexpr (std::is_same_v<T, int>)
        w.i32(m);
      else if constexpr (std::is_same_v<T, int64_t>)
        w.i64(m);
      else if constexpr (std::is_same_v<T, bool>)
        w.boolean(m);
      else
        w.strs(m);
    });
  }
  const auto& s = req.sampling;
  w.tokens(req.visible_special_tokens);
  w.boolean(req.logprobs);
  w.i32(req.top_logprobs);
  w.tokens(req.continue_from);
  w.u32(static_cast<uint32_t>(s.logit_bias.size()));
  for (const auto& [token, bias] : s.logit_bias) {
    w.i32(token);
    w.f32(bias);
  }
  w.str(s.grammar);
  w.str(s.json_schema);
  w.boolean(s.grammar_lazy);
  w.strs(s.grammar_trigger_patterns);
  w.tokens(s.grammar_trigger_tokens);
  w.str(s.grammar_prefill);
  return std::move(w).finish();
}

engine::GenerateRequest decode_request(Reader& r) {
  engine::GenerateRequest q;
  q.prompt = r.tokens();
  for (const auto& p : engine::parameters()) {
    engine::visit_member(p, q, [&](auto& m) {
      using T = std::decay_t<decltype(m)>;
      if constexpr (std::is_same_v<T, float>)
        m = r.f32();
      else if constexpr (std::is_same_v<T, int>)
        m = r.i32();
      else if constexpr (std::is_same_v<T, int64_t>)
        m = r.i64();
      else if constexpr (std::is_same_v<T, bool>)
        m = r.boolean();
      else
        m = r.strs();
    });
  }
  auto& s = q.sampling;
  q.visible_special_tokens = r.tokens();
  q.logprobs = r.boolean();
  q.top_logprobs = r.i32();
  q.continue_from = r.tokens();
  const uint32_t n_bias = r.u32();
  for (uint32_t i = 0; i < n_bias; ++i) {
    const engine::Token t = r.i32();
    s.logit_bias.emplace_back(t, r.f32());
  }
  s.grammar = r.str();
  s.json_schema = r.str();
  s.grammar_lazy = r.boolean();
  s.grammar_trigger_patterns = r.strs();
  s.grammar_trigger_tokens = r.tokens();
  s.grammar_prefill = r.str();
  return q;
}

std::string encode_token(uint64_t id, const engine::TokenEvent& ev) {
  const auto& [index, token, text, piece, logprob, entropy, top, t_ms] = ev;
  Writer w(MsgType::Token);
  w.u64(id);
  w.i32(index);
  w.i32(token);
  w.str(text);
  w.str(piece);
  w.f32(logprob);
  w.f32(entropy);
  w.f64(t_ms);
  w.u32(static_cast<uint32_t>(top.size()));
  for (const auto& [alt_token, alt_text, alt_logprob] : top) {
    w.i32(alt_token);
    w.str(alt_text);
    w.f32(alt_logprob);
  }
  return std::move(w).finish();
}

engine::TokenEvent decode_token(Reader& r) {
  engine::TokenEvent ev;
  ev.index = r.i32();
  ev.token = r.i32();
  ev.text = r.str();
  ev.piece = r.str();
  ev.logprob = r.f32();
  ev.entropy = r.f32();
  ev.t_ms = r.f64();
  const uint32_t n = r.u32();
  if (n > 256) bad(std::to_string(n) + " alternatives");
  ev.top.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    engine::Alternative a;
    a.token = r.i32();
    a.text = r.str();
    a.logprob = r.f32();
    ev.top.push_back(std::move(a));
  }
  return ev;
}

std::string encode_done(uint64_t id, const engine::GenerationResult& res) {
  const auto& [stop, text, tokens, timings, seed, error, kind, stop_string] = res;
  const auto& [prompt_tokens, cached_tokens, generated_tokens, queue_ms, prompt_ms, generation_ms] = timings;
  Writer w(MsgType::Done);
  w.u64(id);
  w.u8(static_cast<uint8_t>(stop));
  w.str(text);
  w.tokens(tokens);
  for (int v : {prompt_tokens, cached_tokens, generated_tokens}) w.i32(v);
  for (double v : {queue_ms, prompt_ms, generation_ms}) w.f64(v);
  w.u32(seed);
  w.str(error);
  w.str(stop_string);
  w.u8(static_cast<uint8_t>(kind));
  return std::move(w).finish();
}

engine::GenerationResult decode_done(Reader& r) {
  engine::GenerationResult res;
  res.stop_reason = stop_reason(r.u8());
  res.text = r.str();
  res.tokens = r.tokens();
  auto& t = res.timings;
  for (int* v : {&t.prompt_tokens, &t.cached_tokens, &t.generated_tokens}) *v = r.i32();
  for (double* v : {&t.queue_ms, &t.prompt_ms, &t.generation_ms}) *v = r.f64();
  res.seed = r.u32();
  res.error = r.str();
  res.stop_string = r.str();
  res.error_kind = error_kind(r.u8());
  return res;
}

std::string encode_id(MsgType type, uint64_t id) {
  Writer w(type);
  w.u64(id);
  return std::move(w).finish();
}

std::string encode_empty(MsgType type) { return Writer(type).finish(); }

std::string encode_error(MsgType type, ErrorKind kind, const std::string& message) {
  Writer w(type);
  w.u8(static_cast<uint8_t>(kind));
  w.str(message);
  return std::move(w).finish();
}

Error decode_error(Reader& r) {
  const ErrorKind kind = error_kind(r.u8());
  return Error(kind, r.str());
}

std::string encode_progress(float p) {
  Writer w(MsgType::Progress);
  w.f32(p);
  return std::move(w).finish();
}

}  // namespace rmm::worker
