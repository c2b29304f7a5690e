#include "cache/response_cache.hpp"

#include <chrono>
#include <utility>

#include "core/log.hpp"

namespace rmm::cache {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::Hit: return "hit";
    case Outcome::Miss: return "miss";
    default: return "bypass";
  }
}

ResponseCache::ResponseCache(store::CacheStore* store, CacheOptions options, ModelHash model_hash)
    : store_(store), options_(options), model_hash_(std::move(model_hash)) {}

ResponseCache::~ResponseCache() = default;

void ResponseCache::model_loaded(const std::filesystem::path& model_path) {
  if (enabled()) (void)model_hash_(model_path);
}

const char* bypass_reason(Bypass b) {
  switch (b) {
    case Bypass::None: return "";
    case Bypass::Disabled: return "disabled";
    case Bypass::OptOut: return "opted out";
    case Bypass::NoCacheRead: return "opted out of reading";
    case Bypass::Nondeterministic: return "not deterministic";
    case Bypass::HashPending: return "model hash pending";
  }
  return "";
}

Plan ResponseCache::plan(const std::filesystem::path& model_path, int n_ctx_seq,
                         const engine::GenerateRequest& request, Policy policy) {
  Plan p;
  if (!enabled()) return p;
  p.bypass = Bypass::OptOut;
  if (!policy.read && !policy.write) return p;
  p.bypass = Bypass::Nondeterministic;
  if (!is_deterministic(request)) return p;
  p.bypass = Bypass::HashPending;
  const auto hash = model_hash_(model_path);
  if (!hash) return p;
  p.key = cache_key({*hash, n_ctx_seq}, request);
  p.write = policy.write;
  if (!policy.read) {
    // no-cache: answer afresh, but the answer may still be kept.
    p.bypass = Bypass::NoCacheRead;
    return p;
  }
  p.bypass = Bypass::None;
  p.recording = find(p.key);
  p.outcome = p.recording ? Outcome::Hit : Outcome::Miss;
  return p;
}

void ResponseCache::count(const Plan& p) {
  switch (p.outcome) {
    case Outcome::Hit: ++hits_; return;
    case Outcome::Miss: ++misses_; return;
    case Outcome::Bypass: break;
  }
  switch (p.bypass) {
    case Bypass::Disabled: ++bypass_disabled_; break;
    case Bypass::OptOut:
    case Bypass::NoCacheRead: ++bypass_opt_out_; break;
    case Bypass::Nondeterministic: ++bypass_nondeterministic_; break;
    case Bypass::HashPending: ++bypass_hash_pending_; break;
    case Bypass::None: break;
  }
}

Canceller ResponseCache::start(Plan plan, engine::GenerateRequest request, engine::TokenCallback on_token,
                               engine::DoneCallback on_done, const Generator& fresh) {
  Canceller c;
  if (plan.recording) {
    c = replay(plan.recording, std::move(on_token), std::move(on_done));
  } else if (plan.write && !plan.key.empty()) {
    c = record(plan.key, std::move(request), std::move(on_token), std::move(on_done), fresh);
  } else {
    c = fresh(std::move(request), std::move(on_token), std::move(on_done));
  }
  count(plan);  // after `fresh` took the request: a refused one counts nowhere
  return c;
}

Submission ResponseCache::submit(const std::filesystem::path& model_path, int n_ctx_seq,
                                 engine::GenerateRequest request, Policy policy,
                                 engine::TokenCallback on_token, engine::DoneCallback on_done,
                                 const Generator& fresh) {
  Plan p = plan(model_path, n_ctx_seq, request, policy);
  Submission s{p.outcome, bypass_reason(p.outcome == Outcome::Bypass ? p.bypass : Bypass::None), {}};
  s.cancel = start(std::move(p), std::move(request), std::move(on_token), std::move(on_done), fresh);
  return s;
}

std::shared_ptr<const Recording> ResponseCache::find(const std::string& key) {
  {
    std::lock_guard lock(pending_mutex_);
    if (auto it = pending_.find(key); it != pending_.end()) return it->second;
  }
  try {
    const auto entry = store_->cache_get(key, limits());
    if (!entry) return nullptr;
    return std::make_shared<const Recording>(recording_from_json(entry->value_json));
  } catch (const std::exception& e) {
    ++errors_;
    spdlog::warn("response cache: lookup failed, generating afresh: {}", e.what());
    return nullptr;
  }
}

// The recorded events go out as fast as the callbacks take them. Timings are
// the replay's own: queue_ms until the cache thread took it, prompt_ms to the
// first event, generation_ms from the first event to the last; all prompt
// tokens count as cached (none was computed). Token counts, texts, stop reason
// and seed are the recorded ones.
Canceller ResponseCache::replay(std::shared_ptr<const Recording> rec, engine::TokenCallback on_token,
                                engine::DoneCallback on_done) {
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  const auto submitted = Clock::now();
  jobs_.post([rec = std::move(rec), on_token = std::move(on_token), on_done = std::move(on_done), cancelled,
              submitted] {
    const auto start = Clock::now();
    engine::GenerationResult r = rec->result;
    r.timings = {};
    r.timings.prompt_tokens = rec->result.timings.prompt_tokens;
    r.timings.cached_tokens = r.timings.prompt_tokens;
    r.timings.queue_ms = ms_between(submitted, start);
    std::optional<Clock::time_point> first, last;
    size_t emitted = 0;
    for (const auto& recorded : rec->events) {
      if (cancelled->load()) break;
      engine::TokenEvent ev = recorded;
      last = Clock::now();
      if (!first) first = last;
      ev.t_ms = ms_between(submitted, *last);
      if (on_token) on_token(ev);
      ++emitted;
    }
    if (emitted < rec->events.size()) {
      // Stopped part way: the result describes what was sent, as a cancelled generation's does.
      r.stop_reason = engine::StopReason::Cancelled;
      r.stop_string.clear();
      r.text.clear();
      r.tokens.clear();
      for (size_t i = 0; i < emitted; ++i) {
        r.text += rec->events[i].text;
        r.tokens.push_back(rec->events[i].token);
      }
      r.timings.generated_tokens = static_cast<int>(emitted);
    } else {
      r.timings.generated_tokens = rec->result.timings.generated_tokens;
    }
    if (first) {
      r.timings.prompt_ms = ms_between(start, *first);
      r.timings.generation_ms = ms_between(*first, *last);
    }
    if (on_done) on_done(r);
  });
  return [cancelled] { cancelled->store(true); };
}

Canceller ResponseCache::record(const std::string& key, engine::GenerateRequest request,
                                engine::TokenCallback on_token, engine::DoneCallback on_done,
                                const Generator& fresh) {
  // The engine calls on_token and on_done on one thread, one after another: no lock needed.
  auto rec = std::make_shared<Recording>();
  auto recording_token = [rec, on_token = std::move(on_token)](const engine::TokenEvent& ev) {
    rec->events.push_back(ev);
    if (on_token) on_token(ev);
  };
  auto recording_done = [this, key, rec, on_done = std::move(on_done)](const engine::GenerationResult& r) {
    if (completed_normally(r.stop_reason)) {
      rec->result = r;
      std::shared_ptr<const Recording> done = rec;
      {
        // Before the caller hears of the answer, so that a repeat finds it.
        std::lock_guard lock(pending_mutex_);
        pending_[key] = done;
      }
      jobs_.post([this, key, done] {
        try {
          const std::string value = to_json(*done);
          if (options_.max_bytes > 0 && static_cast<int64_t>(value.size()) > options_.max_bytes) {
            spdlog::info("response cache: an answer of {} bytes is over the cache size; not kept",
                         value.size());
          } else {
            store_->cache_put(key, value, limits());
            ++stored_;
          }
        } catch (const std::exception& e) {
          ++errors_;
          spdlog::warn("response cache: storing an answer failed: {}", e.what());
        }
        std::lock_guard lock(pending_mutex_);
        if (auto it = pending_.find(key); it != pending_.end() && it->second == done) pending_.erase(it);
      });
    }
    if (on_done) on_done(r);
  };
  return fresh(std::move(request), std::move(recording_token), std::move(recording_done));
}

Stats ResponseCache::stats() const {
  Stats s;
  s.enabled = enabled();
  s.hits = hits_;
  s.misses = misses_;
  s.bypass_disabled = bypass_disabled_;
  s.bypass_opt_out = bypass_opt_out_;
  s.bypass_nondeterministic = bypass_nondeterministic_;
  s.bypass_hash_pending = bypass_hash_pending_;
  s.bypasses = s.bypass_disabled + s.bypass_opt_out + s.bypass_nondeterministic + s.bypass_hash_pending;
  s.stored = stored_;
  s.errors = errors_;
  s.options = options_;
  if (store_) {
    try {
      s.bytes = store_->cache_bytes();
    } catch (const std::exception& e) {
      spdlog::warn("response cache: size query failed: {}", e.what());
    }
  }
  return s;
}

void ResponseCache::clear() {
  jobs_.drain();  // writes under way would otherwise land after the clear
  {
    std::lock_guard lock(pending_mutex_);
    pending_.clear();
  }
  if (store_) store_->cache_clear();
}

}  // namespace rmm::cache
