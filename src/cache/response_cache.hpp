#pragma once
// The response cache: an exact-match cache of deterministic generations
// (greedy, or sampled with a fixed seed), keyed by the model file's hash (which
// the cache asks for: the registry's background hasher computes it), the prompt tokens and every sampling
// parameter (cache_key.hpp), kept in the store (store::CacheStore) with a TTL and a size bound.
//
// It sits in front of the engine: submit() either replays a recorded answer
// through the caller's callbacks, or runs a fresh generation that it records
// and stores once it completes normally. Replays and store writes run on the
// cache's own thread, so neither the engine nor an I/O thread waits on them;
// callbacks may thus run on the engine thread (miss) or the cache thread (hit),
// never on the caller's. A replay emits every recorded event at once, with
// t_ms and timings measured on the replay itself (see replay()).
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "cache/cache_key.hpp"
#include "cache/recording.hpp"
#include "core/serial_queue.hpp"
#include "engine/generation.hpp"
#include "store/store.hpp"

namespace rmm::cache {

struct CacheOptions {
  bool enabled = true;
  int64_t ttl_ms = 24LL * 3600 * 1000;      // 0: entries never expire
  int64_t max_bytes = 256LL * 1024 * 1024;  // 0: no bound
};

// What one request allows ("cache": false, Cache-Control: no-cache / no-store).
struct Policy {
  bool read = true;   // may be answered from the cache
  bool write = true;  // its fresh answer may be stored
};

enum class Outcome { Hit, Miss, Bypass };
const char* outcome_name(Outcome o);  // "hit", "miss", "bypass"

struct Stats {
  bool enabled = false;
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t bypasses = 0;  // the sum of the four below
  int64_t bypass_disabled = 0;
  int64_t bypass_opt_out = 0;
  int64_t bypass_nondeterministic = 0;
  int64_t bypass_hash_pending = 0;
  int64_t stored = 0;
  int64_t errors = 0;  // store failures and unreadable entries (each then acts as a miss)
  int64_t bytes = 0;   // value bytes in the store
  CacheOptions options;
};

// The SHA-256 that identifies a model file in cache keys, when it is known for
// the file as it is now; otherwise nullopt, and the answerer starts computing it
// (requests for the file bypass the cache meanwhile, or for good when it never
// will be). rmm serve answers with the model registry (Registry::model_sha256).
// Called on request threads: it must be quick and thread-safe.
using ModelHash = std::function<std::optional<std::string>(const std::filesystem::path&)>;

// Stops a generation or a replay; finishes with StopReason::Cancelled. Safe to call late or twice.
using Canceller = std::function<void()>;
// Starts a fresh generation (EngineThread::submit and its cancel); throws like submit.
using Generator =
    std::function<Canceller(engine::GenerateRequest, engine::TokenCallback, engine::DoneCallback)>;

struct Submission {
  Outcome outcome = Outcome::Bypass;
  std::string reason;  // why a bypass ("" otherwise)
  Canceller cancel;
};

enum class Bypass { None, Disabled, OptOut, NoCacheRead, Nondeterministic, HashPending };
const char* bypass_reason(Bypass b);  // "" for None

// What the cache will do with one request, decided before anything starts
// (a route must send its response head, naming the outcome, before the first token).
struct Plan {
  Outcome outcome = Outcome::Bypass;
  Bypass bypass = Bypass::Disabled;
  std::string key;                             // set when the answer is recorded or replayed
  bool write = false;                          // record the fresh answer and store it
  std::shared_ptr<const Recording> recording;  // a hit's answer
};

class ResponseCache {
 public:
  // `store` is not owned and must outlive the cache, as must what `model_hash` uses; a null
  // store or an empty `model_hash` disables the cache.
  ResponseCache(store::CacheStore* store, CacheOptions options, ModelHash model_hash);
  ~ResponseCache();  // runs the replays and writes still queued
  ResponseCache(const ResponseCache&) = delete;
  ResponseCache& operator=(const ResponseCache&) = delete;

  // Asks for the hash of a model file that was just loaded, so that it is computed before the first
  // request (requests for it bypass the cache until it is known).
  void model_loaded(const std::filesystem::path& model_path);

  // Looks `request` up. `n_ctx_seq` is the serving context per sequence (it
  // limits outputs, so it is part of the key).
  Plan plan(const std::filesystem::path& model_path, int n_ctx_seq, const engine::GenerateRequest& request,
            Policy policy);
  // Carries a plan out: replays a hit, or runs `fresh` (recording when the
  // plan says so). Throws what `fresh` throws, before any callback runs.
  Canceller start(Plan plan, engine::GenerateRequest request, engine::TokenCallback on_token,
                  engine::DoneCallback on_done, const Generator& fresh);
  // plan() then start().
  Submission submit(const std::filesystem::path& model_path, int n_ctx_seq, engine::GenerateRequest request,
                    Policy policy, engine::TokenCallback on_token, engine::DoneCallback on_done,
                    const Generator& fresh);

  Stats stats() const;
  void clear();  // removes every entry (the counters stay)
  const CacheOptions& options() const { return options_; }
  bool enabled() const { return options_.enabled && store_ != nullptr && model_hash_ != nullptr; }
  // Blocks until queued replays and writes are done (tests; shutdown order).
  void flush() { jobs_.drain(); }

 private:
  store::CacheLimits limits() const { return {options_.ttl_ms, options_.max_bytes}; }
  std::shared_ptr<const Recording> find(const std::string& key);
  Canceller replay(std::shared_ptr<const Recording> rec, engine::TokenCallback on_token,
                   engine::DoneCallback on_done);
  Canceller record(const std::string& key, engine::GenerateRequest request, engine::TokenCallback on_token,
                   engine::DoneCallback on_done, const Generator& fresh);

  store::CacheStore* store_;
  CacheOptions options_;
  ModelHash model_hash_;
  std::atomic<int64_t> hits_{0}, misses_{0}, stored_{0}, errors_{0};
  std::atomic<int64_t> bypass_disabled_{0}, bypass_opt_out_{0}, bypass_nondeterministic_{0},
      bypass_hash_pending_{0};
  void count(const Plan& plan);
  // Entries recorded but not yet written: found by lookups meanwhile, so a
  // request repeated at once after its answer arrived is still a hit.
  std::mutex pending_mutex_;
  std::map<std::string, std::shared_ptr<const Recording>> pending_;
  SerialQueue jobs_;  // last: joined first, while everything it uses is alive
};

}  // namespace rmm::cache
