#include "engine/batch_engine.hpp"

#include <llama.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "core/error.hpp"
#include "core/utf8.hpp"
#include "engine/backend.hpp"
#include "engine/logprobs.hpp"
#include "engine/text_release.hpp"

namespace rmm::engine {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

size_t common_prefix(const std::vector<Token>& a, const std::vector<Token>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::Length: return "length";
    case StopReason::StopString: return "stop";
    case StopReason::EndOfGeneration: return "eos";
    case StopReason::Cancelled: return "cancelled";
    case StopReason::Error: return "error";
  }
  return "error";
}

double Timings::prompt_tokens_per_second() const {
  const int computed = prompt_tokens - cached_tokens;
  return prompt_ms > 0 ? computed * 1000.0 / prompt_ms : 0.0;
}

double Timings::generation_tokens_per_second() const {
  return generation_ms > 0 && generated_tokens > 1 ? (generated_tokens - 1) * 1000.0 / generation_ms : 0.0;
}

struct BatchEngine::Queued {
  RequestId id;
  GenerateRequest request;
  TokenCallback on_token;
  DoneCallback on_done;
  std::shared_ptr<std::atomic<bool>> cancelled;
  Clock::time_point submitted;
};

struct BatchEngine::Active {
  Queued q;
  SamplerPtr sampler;
  bool fast_greedy = false;
  bool want_logprobs = false;
  TextRelease release;
  std::string carry;            // continue_from's unfinished character, completed by the first new token
  int first_index = 0;          // continue_from's length: new tokens' events count on from it
  std::deque<TokenEvent> held;  // sampled tokens whose text is not released yet
  size_t prompt_done = 0;       // prompt tokens already in the KV cache
  bool has_next = false;        // a sampled token waits to be decoded
  Token next = 0;
  int out_index = -1;                        // this step's batch row with logits, or -1
  std::vector<llama_token_data> candidates;  // the sampler chain's working array, reused
  GenerationResult result;
  Clock::time_point admitted, first_token;

  explicit Active(Queued&& qq) : q(std::move(qq)), release(q.request.stop) {}
};

struct BatchEngine::Slot {
  int seq = 0;
  std::vector<Token> cache;  // tokens whose KV entries this sequence holds
  std::unique_ptr<Active> active;
  uint64_t last_used = 0;
};

struct BatchEngine::Batch {
  llama_batch b;
  explicit Batch(int n) : b(llama_batch_init(n, 0, 1)) {}
  ~Batch() { llama_batch_free(b); }
  void clear() { b.n_tokens = 0; }
  void add(Token t, int pos, int seq, bool logits) {
    const int i = b.n_tokens++;
    b.token[i] = t;
    b.pos[i] = pos;
    b.n_seq_id[i] = 1;
    b.seq_id[i][0] = seq;
    b.logits[i] = logits;
  }
};

BatchEngine::BatchEngine(std::shared_ptr<const Model> model, const ContextParams& params)
    : model_(std::move(model)), params_(params) {
  ensure_backend();
  auto bad = [](const std::string& m) { throw Error(ErrorKind::InvalidArgument, m); };
  if (params_.n_seq < 1 || params_.n_seq > static_cast<int>(llama_max_parallel_sequences()))
    bad("parallel sequences must be in 1.." + std::to_string(llama_max_parallel_sequences()));
  if (params_.n_ctx < 0) bad("context size must be 0 (model default) or positive");
  if (params_.n_ctx == 0) params_.n_ctx = std::min(model_->n_ctx_train(), 4096);
  if (params_.n_ctx < 8) bad("context size must be at least 8 tokens");
  if (params_.n_batch < 1 || params_.n_ubatch < 1) bad("batch sizes must be positive");
  params_.n_batch = std::max(params_.n_batch, params_.n_seq);  // every sequence must fit in one step
  params_.n_ubatch = std::min(params_.n_ubatch, params_.n_batch);
  if (params_.n_threads < 0 || params_.n_threads_batch < 0) bad("thread counts must be positive");
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (params_.n_threads == 0) params_.n_threads = hw;
  if (params_.n_threads_batch == 0) params_.n_threads_batch = params_.n_threads;

  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(params_.n_ctx);
  cp.n_batch = static_cast<uint32_t>(params_.n_batch);
  cp.n_ubatch = static_cast<uint32_t>(params_.n_ubatch);
  cp.n_seq_max = static_cast<uint32_t>(params_.n_seq);
  cp.n_threads = params_.n_threads;
  cp.n_threads_batch = params_.n_threads_batch;
  cp.kv_unified = params_.kv_unified;
  cp.flash_attn_type = params_.flash_attn < 0    ? LLAMA_FLASH_ATTN_TYPE_AUTO
                       : params_.flash_attn == 0 ? LLAMA_FLASH_ATTN_TYPE_DISABLED
                                                 : LLAMA_FLASH_ATTN_TYPE_ENABLED;
  cp.no_perf = true;
  cp.abort_callback = &BatchEngine::abort_requested;
  cp.abort_callback_data = this;
  ctx_ = llama_init_from_model(model_->raw(), cp);
  if (!ctx_) {
    throw Error(ErrorKind::OutOfMemory,
                "llama.cpp could not create a context of " + std::to_string(params_.n_ctx) + " tokens x " +
                    std::to_string(params_.n_seq) +
                    " sequences (not enough memory for the KV cache or compute buffers?)");
  }
  // llama.cpp may lower the batch size (never above the context): a batch must
  // not exceed what it actually took, or llama_decode aborts.
  params_.n_batch = static_cast<int>(llama_n_batch(ctx_));
  if (params_.n_batch < params_.n_seq) {
    llama_free(ctx_);
    ctx_ = nullptr;
    throw Error(ErrorKind::InvalidArgument, "a batch of " + std::to_string(params_.n_batch) +
                                                " tokens cannot hold " + std::to_string(params_.n_seq) +
                                                " parallel sequences");
  }
  slots_.resize(static_cast<size_t>(params_.n_seq));
  for (int i = 0; i < params_.n_seq; ++i) slots_[static_cast<size_t>(i)].seq = i;
  batch_ = std::make_unique<Batch>(params_.n_batch);
}

BatchEngine::~BatchEngine() {
  batch_.reset();
  if (ctx_) llama_free(ctx_);
}

int BatchEngine::n_ctx() const { return static_cast<int>(llama_n_ctx(ctx_)); }
int BatchEngine::n_ctx_seq() const { return static_cast<int>(llama_n_ctx_seq(ctx_)); }

size_t BatchEngine::queued() const {
  std::lock_guard lock(inbox_mutex_);
  return inbox_.size();
}

bool BatchEngine::abort_requested(void* self) {
  // Called by ggml between graph nodes (CPU backends): stop a long decode only
  // when every sequence in it was cancelled.
  const auto* e = static_cast<BatchEngine*>(self);
  if (e->batch_flags_.empty()) return false;
  return std::all_of(e->batch_flags_.begin(), e->batch_flags_.end(), [](const auto* f) { return f->load(); });
}

void validate_request(const GenerateRequest& request, int n_vocab, int n_ctx_seq) {
  auto bad = [](const std::string& m) { throw Error(ErrorKind::InvalidArgument, m); };
  if (request.prompt.empty()) bad("the prompt is empty");
  for (Token t : request.prompt) {
    if (t < 0 || t >= n_vocab) bad("prompt token id " + std::to_string(t) + " is outside the vocabulary");
  }
  const auto& cont = request.continue_from;
  for (size_t i = 0; i < cont.size(); ++i) {
    if (cont[i] < 0 || cont[i] >= n_vocab)
      bad("continue_from.tokens[" + std::to_string(i) + "] is " + std::to_string(cont[i]) +
          ", outside the vocabulary (ids 0 to " + std::to_string(n_vocab - 1) + ", " +
          std::to_string(n_vocab) + " tokens)");
  }
  if (static_cast<int>(request.prompt.size()) >= n_ctx_seq)
    bad("the prompt has " + std::to_string(request.prompt.size()) + " tokens but the context holds " +
        std::to_string(n_ctx_seq) + " per sequence");
  if (!cont.empty() && request.prompt.size() + cont.size() >= static_cast<size_t>(n_ctx_seq))
    bad("the prompt (" + std::to_string(request.prompt.size()) + " tokens) and continue_from (" +
        std::to_string(cont.size()) + " tokens) make " + std::to_string(request.prompt.size() + cont.size()) +
        " tokens but the context holds " + std::to_string(n_ctx_seq) + " per sequence");
  if (request.max_tokens < -1) bad("max_tokens must be -1 (no limit) or at least 0");
  if (request.top_logprobs < 0 || request.top_logprobs > 20) bad("top_logprobs must be between 0 and 20");
  engine::validate(request.sampling, n_vocab);
}

void BatchEngine::validate(const GenerateRequest& request) const {
  validate_request(request, model_->n_vocab(), n_ctx_seq());
}

ContinuedText continue_from_text(const Model& model, const GenerateRequest& request) {
  std::string bytes;
  const auto& visible = request.visible_special_tokens;
  for (Token t : request.continue_from)
    bytes += model.piece(t, std::find(visible.begin(), visible.end(), t) != visible.end());
  const size_t whole = utf8::complete_prefix_length(bytes);
  return {utf8::sanitize(std::string_view(bytes).substr(0, whole)), bytes.substr(whole)};
}

RequestId BatchEngine::submit(GenerateRequest request, TokenCallback on_token, DoneCallback on_done) {
  validate(request);
  // The model reads continue_from as more prompt; the slot's prefix reuse, the
  // context check and the prompt's timings all see the whole sequence.
  request.prompt.insert(request.prompt.end(), request.continue_from.begin(), request.continue_from.end());
  const RequestId id = next_id_++;
  auto flag = std::make_shared<std::atomic<bool>>(false);
  std::lock_guard lock(inbox_mutex_);
  cancel_flags_[id] = flag;
  inbox_.push_back(
      Queued{id, std::move(request), std::move(on_token), std::move(on_done), flag, Clock::now()});
  return id;
}

void BatchEngine::cancel(RequestId id) {
  std::lock_guard lock(inbox_mutex_);
  if (auto it = cancel_flags_.find(id); it != cancel_flags_.end()) it->second->store(true);
}

void BatchEngine::cancel_all() {
  std::lock_guard lock(inbox_mutex_);
  for (auto& [id, flag] : cancel_flags_) flag->store(true);
}

void BatchEngine::admit() {
  llama_memory_t mem = llama_get_memory(ctx_);
  for (;;) {
    auto free_slot = std::find_if(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.active; });
    Queued q;
    {
      std::lock_guard lock(inbox_mutex_);
      if (inbox_.empty()) return;
      // A cancelled request leaves the queue without needing a slot.
      if (!inbox_.front().cancelled->load() && free_slot == slots_.end()) return;
      q = std::move(inbox_.front());
      inbox_.pop_front();
    }
    if (q.cancelled->load()) {
      GenerationResult r;
      r.stop_reason = StopReason::Cancelled;
      r.timings.prompt_tokens = static_cast<int>(q.request.prompt.size());
      {
        std::lock_guard lock(inbox_mutex_);
        cancel_flags_.erase(q.id);
      }
      if (q.on_done) q.on_done(r);
      continue;
    }
    // Prefer the idle slot whose cache shares the longest prefix with this
    // prompt (the next turn of a chat), then the least recently used one.
    Slot* best = nullptr;
    size_t best_prefix = 0;
    for (auto& s : slots_) {
      if (s.active) continue;
      const size_t p = common_prefix(s.cache, q.request.prompt);
      if (!best || p > best_prefix || (p == best_prefix && s.last_used < best->last_used)) {
        best = &s;
        best_prefix = p;
      }
    }
    Slot& slot = *best;
    // The last prompt token is always decoded again: its logits start the answer.
    size_t keep = std::min(best_prefix, q.request.prompt.size() - 1);
    if (keep < slot.cache.size()) {
      if (!llama_memory_seq_rm(mem, slot.seq, static_cast<llama_pos>(keep), -1)) {
        llama_memory_seq_rm(mem, slot.seq, -1, -1);
        keep = 0;
      }
      slot.cache.resize(keep);
    }
    auto a = std::make_unique<Active>(std::move(q));
    a->admitted = Clock::now();
    a->prompt_done = keep;
    const auto& req = a->q.request;
    a->fast_greedy = is_plain_greedy(req.sampling);
    a->want_logprobs = req.logprobs || req.top_logprobs > 0;
    if (!req.continue_from.empty()) {
      auto cont = continue_from_text(*model_, req);
      a->result.text = std::move(cont.text);
      a->carry = std::move(cont.tail);
      a->first_index = static_cast<int>(req.continue_from.size());
    }
    try {
      a->sampler = make_sampler(*model_, req.sampling, &a->result.seed);
      // The answer so far is the sampler's history too: penalties count its
      // tokens and a grammar has to have read them, as if it had sampled them.
      for (size_t i = 0; i < req.continue_from.size(); ++i) {
        try {
          llama_sampler_accept(a->sampler.get(), req.continue_from[i]);
        } catch (const std::exception&) {
          throw Error(ErrorKind::InvalidArgument, "continue_from.tokens[" + std::to_string(i) +
                                                      "] does not follow the grammar of the request");
        }
      }
    } catch (const Error& e) {
      // A schema or grammar the request brought is its fault (400), not ours.
      a->result.error_kind = e.kind();
      slot.active = std::move(a);
      ++running_;
      finish(slot, StopReason::Error, e.what());
      continue;
    }
    a->result.timings.prompt_tokens = static_cast<int>(req.prompt.size());
    a->result.timings.cached_tokens = static_cast<int>(keep);
    a->result.timings.queue_ms = ms_between(a->q.submitted, a->admitted);
    slot.active = std::move(a);
    slot.last_used = ++use_clock_;
    ++running_;
    prompt_order_.push_back(slot.seq);
  }
}

void BatchEngine::emit_released(Active& a, const std::vector<std::string>& texts) {
  for (const auto& text : texts) {
    TokenEvent ev = std::move(a.held.front());
    a.held.pop_front();
    ev.text = text;
    a.result.text += ev.text;
    if (a.q.on_token) a.q.on_token(ev);
  }
}

void BatchEngine::finish(Slot& slot, StopReason reason, const std::string& error) {
  Active& a = *slot.active;
  if (reason == StopReason::StopString) {
    a.held.clear();  // tokens of the stop string are not emitted
  } else if (reason != StopReason::Error) {
    emit_released(a, a.release.flush());
  }
  // continue_from's unfinished character that no new token completed.
  if (!a.carry.empty() && reason != StopReason::Error) a.result.text += utf8::sanitize(a.carry);
  a.result.stop_reason = reason;
  a.result.error = error;
  const auto now = Clock::now();
  auto& t = a.result.timings;
  if (t.generated_tokens > 0) {
    t.prompt_ms = ms_between(a.admitted, a.first_token);
    t.generation_ms = ms_between(a.first_token, now);
  } else {
    t.prompt_ms = ms_between(a.admitted, now);
  }
  std::unique_ptr<Active> done = std::move(slot.active);
  slot.last_used = ++use_clock_;
  --running_;
  prompt_order_.erase(std::remove(prompt_order_.begin(), prompt_order_.end(), slot.seq), prompt_order_.end());
  {
    std::lock_guard lock(inbox_mutex_);
    cancel_flags_.erase(done->q.id);
  }
  if (done->q.on_done) done->q.on_done(done->result);
}

struct BatchEngine::Pick {
  Token token = 0;
  float logprob = std::numeric_limits<float>::quiet_NaN();
  float entropy = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::pair<Token, float>> top;
  bool failed = false;
};

BatchEngine::Pick BatchEngine::choose(Active& a, const float* logits) const {
  // Works on this sequence's own logits row and sampler only, so sequences can
  // be chosen in parallel; llama_sampler_sample would touch the shared context.
  Pick pick;
  const int n_vocab = model_->n_vocab();
  if (a.fast_greedy) {
    pick.token = argmax(logits, n_vocab);
  } else {
    a.candidates.resize(static_cast<size_t>(n_vocab));
    for (Token t = 0; t < n_vocab; ++t) a.candidates[static_cast<size_t>(t)] = {t, logits[t], 0.0f};
    llama_token_data_array arr{a.candidates.data(), a.candidates.size(), -1, false};
    llama_sampler_apply(a.sampler.get(), &arr);
    if (arr.selected < 0 || arr.selected >= static_cast<int64_t>(arr.size)) {
      pick.failed = true;  // e.g. a grammar that allows no token here
      return pick;
    }
    pick.token = arr.data[arr.selected].id;
    llama_sampler_accept(a.sampler.get(), pick.token);
  }
  if (a.want_logprobs) {
    const Distribution d = distribution(logits, n_vocab);
    pick.logprob = d.logprob(logits, pick.token);
    pick.entropy = d.entropy;
    pick.top = top_logprobs(logits, n_vocab, d, a.q.request.top_logprobs);
  }
  return pick;
}

void BatchEngine::accept(Slot& slot, const Pick& pick) {
  Active& a = *slot.active;
  if (pick.failed) {
    finish(slot, StopReason::Error, "the sampler could not choose a token (the grammar allows none here)");
    return;
  }
  const Token tok = pick.token;
  const auto now = Clock::now();
  auto& t = a.result.timings;
  if (t.generated_tokens == 0) a.first_token = now;

  if (model_->is_eog(tok) && !a.q.request.ignore_eos) {
    finish(slot, StopReason::EndOfGeneration);
    return;
  }
  TokenEvent ev;
  ev.index = a.first_index + t.generated_tokens;
  ev.token = tok;
  ev.t_ms = ms_between(a.q.submitted, now);
  ev.logprob = pick.logprob;
  ev.entropy = pick.entropy;
  for (const auto& [alt, lp] : pick.top) ev.top.push_back({alt, model_->piece(alt), lp});
  ++t.generated_tokens;
  a.result.tokens.push_back(tok);
  const auto& visible = a.q.request.visible_special_tokens;
  ev.piece = model_->piece(tok, std::find(visible.begin(), visible.end(), tok) != visible.end());
  // The first new token's text starts with the character continue_from left unfinished.
  const std::string piece = a.carry + ev.piece;
  a.carry.clear();
  a.held.push_back(std::move(ev));
  const auto released = a.release.push(piece);
  emit_released(a, released.texts);
  if (released.stopped) {
    a.result.stop_string = released.stop;
    finish(slot, StopReason::StopString);
    return;
  }
  const int max_tokens = a.q.request.max_tokens;
  if ((max_tokens >= 0 && t.generated_tokens >= max_tokens) ||
      static_cast<int>(slot.cache.size()) + 1 >= n_ctx_seq()) {
    finish(slot, StopReason::Length);
    return;
  }
  a.next = tok;
  a.has_next = true;
}

bool BatchEngine::step() {
  admit();
  // Cancellation and max_tokens == 0 end a request before any work is spent on it.
  for (auto& s : slots_) {
    if (!s.active) continue;
    if (s.active->q.cancelled->load()) {
      finish(s, StopReason::Cancelled);
    } else if (s.active->q.request.max_tokens == 0) {
      finish(s, StopReason::Length);
    }
  }

  Batch& batch = *batch_;
  batch.clear();
  batch_flags_.clear();
  // Generating sequences first (one token each), then prompt chunks in arrival order.
  for (auto& s : slots_) {
    if (!s.active || !s.active->has_next) continue;
    s.active->out_index = batch.b.n_tokens;
    batch.add(s.active->next, static_cast<int>(s.cache.size()), s.seq, true);
    batch_flags_.push_back(s.active->q.cancelled.get());
  }
  int budget = params_.n_batch - batch.b.n_tokens;
  std::vector<std::pair<int, size_t>> prompt_chunks;  // (slot, tokens added)
  for (int seq : prompt_order_) {
    if (budget <= 0) break;
    Slot& s = slots_[static_cast<size_t>(seq)];
    Active& a = *s.active;
    const auto& prompt = a.q.request.prompt;
    const size_t take = std::min(prompt.size() - a.prompt_done, static_cast<size_t>(budget));
    for (size_t j = 0; j < take; ++j) {
      const size_t i = a.prompt_done + j;
      const bool last = i + 1 == prompt.size();
      if (last) a.out_index = batch.b.n_tokens;
      batch.add(prompt[i], static_cast<int>(i), s.seq, last);
    }
    budget -= static_cast<int>(take);
    prompt_chunks.emplace_back(seq, take);
    batch_flags_.push_back(a.q.cancelled.get());
  }
  if (batch.b.n_tokens == 0) return running() > 0 || queued() > 0;

  const int rc = llama_decode(ctx_, batch.b);
  batch_flags_.clear();
  if (rc != 0) {
    // Nothing of this batch counts: drop what it may have written, then end the
    // sequences it carried (cancelled ones as cancelled).
    llama_memory_t mem = llama_get_memory(ctx_);
    const std::string why = rc == 1   ? "the KV cache is full (too many tokens across parallel sequences)"
                            : rc == 2 ? "decoding was aborted"
                                      : "llama_decode failed with code " + std::to_string(rc);
    for (auto& s : slots_) {
      const bool in_batch =
          s.active && (s.active->has_next || std::any_of(prompt_chunks.begin(), prompt_chunks.end(),
                                                         [&](const auto& c) { return c.first == s.seq; }));
      if (!in_batch) continue;
      llama_memory_seq_rm(mem, s.seq, static_cast<llama_pos>(s.cache.size()), -1);
      s.active->out_index = -1;
      if (s.active->q.cancelled->load()) {
        finish(s, StopReason::Cancelled);
      } else {
        finish(s, StopReason::Error, why);
      }
    }
    return true;
  }

  // The batch is in the KV cache now.
  for (auto& s : slots_) {
    if (s.active && s.active->has_next) {
      s.cache.push_back(s.active->next);
      s.active->has_next = false;
    }
  }
  for (const auto& [seq, take] : prompt_chunks) {
    Slot& s = slots_[static_cast<size_t>(seq)];
    Active& a = *s.active;
    s.cache.insert(s.cache.end(), a.q.request.prompt.begin() + static_cast<std::ptrdiff_t>(a.prompt_done),
                   a.q.request.prompt.begin() + static_cast<std::ptrdiff_t>(a.prompt_done + take));
    a.prompt_done += take;
    if (a.prompt_done == a.q.request.prompt.size()) {
      prompt_order_.erase(std::remove(prompt_order_.begin(), prompt_order_.end(), seq), prompt_order_.end());
    }
  }
  // Choose every sequence's next token (in parallel when there are several:
  // with a 128k vocabulary this is the step's main CPU cost), then emit in slot
  // order on this thread, where callbacks run.
  struct Row {
    Slot* slot;
    const float* logits;
    Pick pick;
  };
  std::vector<Row> rows;
  for (auto& s : slots_) {
    if (!s.active || s.active->out_index < 0) continue;
    const int idx = s.active->out_index;
    s.active->out_index = -1;
    if (s.active->q.cancelled->load()) {
      finish(s, StopReason::Cancelled);
      continue;
    }
    rows.push_back({&s, llama_get_logits_ith(ctx_, idx), {}});
  }
  const int n_rows = static_cast<int>(rows.size());
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(params_.n_threads) if (n_rows >= 4)
#endif
  for (int i = 0; i < n_rows; ++i) {
    Row& row = rows[static_cast<size_t>(i)];
    row.pick = choose(*row.slot->active, row.logits);
  }
  for (const auto& row : rows) accept(*row.slot, row.pick);
  return true;
}

void BatchEngine::run() {
  while (step()) {
  }
}

GenerationResult BatchEngine::generate(GenerateRequest request, const TokenCallback& on_token) {
  GenerationResult out;
  submit(std::move(request), on_token, [&out](const GenerationResult& r) { out = r; });
  run();
  return out;
}

}  // namespace rmm::engine
