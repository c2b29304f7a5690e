// The response cache over a real SQLite store with a scripted engine: misses
// record, hits replay exactly, and what must not be kept is not. Model hashes
// come from a stand-in for the registry's hasher (Registry::model_sha256 is
// tested in tests/registry).
#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "cache/response_cache.hpp"
#include "core/file_stamp.hpp"
#include "core/sha256.hpp"
#include "store/store.hpp"
#include "support/test_env.hpp"

using namespace rmm::cache;
using namespace rmm::engine;

namespace {

// Answers every request with the same script, on the caller's thread.
struct ScriptedEngine {
  std::vector<TokenEvent> events;
  GenerationResult result;
  int calls = 0;
  bool cancelled = false;

  Generator generator() {
    return [this](GenerateRequest, TokenCallback on_token, DoneCallback on_done) -> Canceller {
      ++calls;
      for (const auto& ev : events) on_token(ev);
      on_done(result);
      return [this] { cancelled = true; };
    };
  }
};

ScriptedEngine script() {
  ScriptedEngine e;
  const char* texts[] = {"Once", " upon", "", " a\xc3\xa9"};
  for (int i = 0; i < 4; ++i) {
    TokenEvent ev;
    ev.index = i;
    ev.token = 100 + i;
    ev.text = texts[i];
    ev.piece = i == 2 ? std::string("\xc3") : std::string(texts[i]);
    ev.logprob = -0.5f * static_cast<float>(i) - 0.01f;
    ev.top = {{100 + i, ev.piece, ev.logprob}, {7, "other", -3.25f}};
    ev.t_ms = 10.0 * i;
    e.events.push_back(ev);
    e.result.text += ev.text;
    e.result.tokens.push_back(ev.token);
  }
  e.result.stop_reason = StopReason::Length;
  e.result.timings.prompt_tokens = 3;
  e.result.timings.generated_tokens = 4;
  e.result.timings.prompt_ms = 12.5;
  e.result.timings.generation_ms = 30;
  e.result.seed = 1234;
  return e;
}

struct Collected {
  std::mutex m;
  std::condition_variable cv;
  std::vector<TokenEvent> events;
  std::optional<GenerationResult> result;
  std::thread::id thread;

  TokenCallback on_token() {
    return [this](const TokenEvent& ev) {
      std::lock_guard lock(m);
      events.push_back(ev);
    };
  }
  DoneCallback on_done() {
    return [this](const GenerationResult& r) {
      std::lock_guard lock(m);
      result = r;
      thread = std::this_thread::get_id();
      cv.notify_all();
    };
  }
  GenerationResult wait() {
    std::unique_lock lock(m);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [this] { return result.has_value(); }));
    return result.value_or(GenerationResult{});
  }
};

// Answers as the registry does: a file's hash once it was hashed as the file is
// now, else nullopt, remembering that it was asked for; hash_queued() plays
// the background hasher.
class Hashes {
 public:
  ModelHash answerer() {
    return [this](const std::filesystem::path& p) { return get(p); };
  }
  std::optional<std::string> get(const std::filesystem::path& p) {
    const auto stamp = rmm::stamp_of(p);
    std::lock_guard lock(mutex_);
    ++calls_;
    if (!stamp) return std::nullopt;
    if (auto it = known_.find(p); it != known_.end() && it->second.first == *stamp) return it->second.second;
    queued_.insert(p);
    return std::nullopt;
  }
  void hash_queued() {
    std::lock_guard lock(mutex_);
    for (const auto& p : queued_) known_[p] = {*rmm::stamp_of(p), rmm::sha256_file_hex(p)};
    queued_.clear();
  }
  bool queued(const std::filesystem::path& p) {
    std::lock_guard lock(mutex_);
    return queued_.count(p) > 0;
  }
  int calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::mutex mutex_;
  std::map<std::filesystem::path, std::pair<rmm::FileStamp, std::string>> known_;
  std::set<std::filesystem::path> queued_;
  int calls_ = 0;
};

GenerateRequest greedy() {
  GenerateRequest r;
  r.prompt = {1, 2, 3};
  r.sampling.temperature = 0;
  r.max_tokens = 4;
  r.logprobs = true;
  r.top_logprobs = 2;
  return r;
}

class ResponseCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = rmm::test::temp_dir("response-cache");
    model_ = dir_ / "model.gguf";
    std::ofstream(model_, std::ios::binary) << "not really a model";
    store_ = rmm::store::open_store((dir_ / "rmm.db").string());
  }
  std::unique_ptr<ResponseCache> make(CacheOptions o = {}) {
    auto c = std::make_unique<ResponseCache>(store_.get(), o, hashes_.answerer());
    c->model_loaded(model_);
    hashes_.hash_queued();
    return c;
  }
  Submission run(ResponseCache& c, ScriptedEngine& e, Collected& out, GenerateRequest req = greedy(),
                 Policy policy = {}) {
    return c.submit(model_, 512, std::move(req), policy, out.on_token(), out.on_done(), e.generator());
  }

  std::filesystem::path dir_, model_;
  std::unique_ptr<rmm::store::Store> store_;
  Hashes hashes_;
};

}  // namespace

TEST_F(ResponseCacheTest, HitReplaysExactlyWhatWasRecorded) {
  auto cache = make();
  auto engine = script();
  Collected first, second;
  EXPECT_EQ(run(*cache, engine, first).outcome, Outcome::Miss);
  const auto r1 = first.wait();
  cache->flush();
  EXPECT_GT(cache->stats().bytes, 0);

  const auto sub = run(*cache, engine, second);
  EXPECT_EQ(sub.outcome, Outcome::Hit);
  const auto r2 = second.wait();
  EXPECT_EQ(engine.calls, 1) << "a hit must not reach the engine";
  EXPECT_NE(second.thread, std::this_thread::get_id()) << "replays run on the cache's thread";

  ASSERT_EQ(second.events.size(), first.events.size());
  for (size_t i = 0; i < first.events.size(); ++i) {
    const auto &a = first.events[i], &b = second.events[i];
    EXPECT_EQ(b.index, a.index);
    EXPECT_EQ(b.token, a.token);
    EXPECT_EQ(b.text, a.text);
    EXPECT_EQ(b.piece, a.piece);
    EXPECT_EQ(b.logprob, a.logprob);
    ASSERT_EQ(b.top.size(), a.top.size());
    for (size_t k = 0; k < a.top.size(); ++k) {
      EXPECT_EQ(b.top[k].token, a.top[k].token);
      EXPECT_EQ(b.top[k].text, a.top[k].text);
      EXPECT_EQ(b.top[k].logprob, a.top[k].logprob);
    }
    EXPECT_LT(b.t_ms, 1000.0);
  }
  EXPECT_EQ(r2.stop_reason, r1.stop_reason);
  EXPECT_EQ(r2.text, r1.text);
  EXPECT_EQ(r2.tokens, r1.tokens);
  EXPECT_EQ(r2.seed, r1.seed);
  EXPECT_EQ(r2.stop_string, r1.stop_string);
  EXPECT_EQ(r2.timings.prompt_tokens, 3);
  EXPECT_EQ(r2.timings.generated_tokens, 4);
  EXPECT_EQ(r2.timings.cached_tokens, 3) << "a replayed prompt counts as cached";
  EXPECT_LT(r2.timings.prompt_ms, 12.5) << "timings are the replay's, not the recorded ones";

  const auto s = cache->stats();
  EXPECT_EQ(s.hits, 1);
  EXPECT_EQ(s.misses, 1);
  EXPECT_EQ(s.bypasses, 0);
  EXPECT_EQ(s.stored, 1);
}

TEST_F(ResponseCacheTest, ARepeatRightAfterTheAnswerIsAHitEvenBeforeTheWrite) {
  auto cache = make();
  auto engine = script();
  Collected a, b;
  run(*cache, engine, a);
  a.wait();  // no flush: the store write may still be queued
  EXPECT_EQ(run(*cache, engine, b).outcome, Outcome::Hit);
  EXPECT_EQ(b.wait().text, a.result->text);
}

TEST_F(ResponseCacheTest, NonDeterministicRequestsBypass) {
  auto cache = make();
  auto engine = script();
  auto req = greedy();
  req.sampling.temperature = 0.8f;
  for (int i = 0; i < 2; ++i) {
    Collected out;
    const auto sub = run(*cache, engine, out, req);
    EXPECT_EQ(sub.outcome, Outcome::Bypass);
    EXPECT_EQ(sub.reason, "not deterministic");
    out.wait();
  }
  cache->flush();
  EXPECT_EQ(engine.calls, 2);
  EXPECT_EQ(cache->stats().bytes, 0);
  EXPECT_EQ(cache->stats().bypass_nondeterministic, 2);

  req.sampling.seed = 7;  // now it is
  Collected c, d;
  EXPECT_EQ(run(*cache, engine, c, req).outcome, Outcome::Miss);
  c.wait();
  EXPECT_EQ(run(*cache, engine, d, req).outcome, Outcome::Hit);
  d.wait();
}

TEST_F(ResponseCacheTest, CancelledAndFailedGenerationsAreNotStored) {
  auto cache = make();
  for (auto reason : {StopReason::Cancelled, StopReason::Error}) {
    auto engine = script();
    engine.result.stop_reason = reason;
    engine.result.error = reason == StopReason::Error ? "boom" : "";
    Collected a, b;
    EXPECT_EQ(run(*cache, engine, a).outcome, Outcome::Miss);
    EXPECT_EQ(a.wait().stop_reason, reason);
    cache->flush();
    EXPECT_EQ(run(*cache, engine, b).outcome, Outcome::Miss);
    b.wait();
    EXPECT_EQ(engine.calls, 2);
  }
  EXPECT_EQ(cache->stats().stored, 0);
  EXPECT_EQ(cache->stats().bytes, 0);
}

TEST_F(ResponseCacheTest, PoliciesAndOptOut) {
  auto cache = make();
  auto engine = script();
  {
    Collected a;  // "cache": false / no-store: neither read nor written
    const auto sub = run(*cache, engine, a, greedy(), Policy{false, false});
    EXPECT_EQ(sub.outcome, Outcome::Bypass);
    a.wait();
    cache->flush();
    EXPECT_EQ(cache->stats().bytes, 0);
  }
  {
    Collected a;  // read-only: a miss that is not kept
    EXPECT_EQ(run(*cache, engine, a, greedy(), Policy{true, false}).outcome, Outcome::Miss);
    a.wait();
    cache->flush();
    EXPECT_EQ(cache->stats().bytes, 0);
  }
  {
    Collected a, b;  // no-cache: fresh, but kept for later requests
    EXPECT_EQ(run(*cache, engine, a, greedy(), Policy{false, true}).outcome, Outcome::Bypass);
    a.wait();
    cache->flush();
    EXPECT_GT(cache->stats().bytes, 0);
    EXPECT_EQ(run(*cache, engine, b).outcome, Outcome::Hit);
    b.wait();
  }
  EXPECT_EQ(engine.calls, 3);
  EXPECT_EQ(cache->stats().bypass_opt_out, 2);
}

TEST_F(ResponseCacheTest, DisabledOrWithoutStoreAlwaysBypasses) {
  CacheOptions off;
  off.enabled = false;
  ResponseCache disabled(store_.get(), off, hashes_.answerer());
  ResponseCache storeless(nullptr, {}, hashes_.answerer());
  ResponseCache hashless(store_.get(), {}, nullptr);  // nothing to key answers by
  auto engine = script();
  for (auto* c : {&disabled, &storeless, &hashless}) {
    c->model_loaded(model_);
    for (int i = 0; i < 2; ++i) {
      Collected out;
      EXPECT_EQ(
          c->submit(model_, 512, greedy(), {}, out.on_token(), out.on_done(), engine.generator()).outcome,
          Outcome::Bypass);
      out.wait();
    }
    EXPECT_EQ(c->stats().bypass_disabled, 2);
    EXPECT_FALSE(c->stats().enabled);
  }
  EXPECT_EQ(hashes_.calls(), 0) << "a disabled cache asks for no hash";
}

TEST_F(ResponseCacheTest, ALoadedModelIsHashedBeforeItsFirstRequest) {
  ResponseCache cache(store_.get(), {}, hashes_.answerer());
  cache.model_loaded(model_);
  EXPECT_TRUE(hashes_.queued(model_));
  hashes_.hash_queued();
  auto engine = script();
  Collected a;
  EXPECT_EQ(run(cache, engine, a).outcome, Outcome::Miss);
  a.wait();
}

TEST_F(ResponseCacheTest, BypassedUntilTheModelIsHashedAndAgainWhenItChanges) {
  ResponseCache cache(store_.get(), {}, hashes_.answerer());
  auto engine = script();
  // Not announced: the first request starts the hash and bypasses.
  Collected a;
  const auto sub = cache.submit(model_, 512, greedy(), {}, a.on_token(), a.on_done(), engine.generator());
  EXPECT_EQ(sub.outcome, Outcome::Bypass);
  EXPECT_EQ(sub.reason, "model hash pending");
  a.wait();
  hashes_.hash_queued();
  Collected b, c;
  EXPECT_EQ(run(cache, engine, b).outcome, Outcome::Miss);
  b.wait();
  EXPECT_EQ(run(cache, engine, c).outcome, Outcome::Hit);
  c.wait();
  // Another file at the same path (a different size) is another model: hashed again, then a miss.
  std::ofstream(model_, std::ios::binary | std::ios::trunc) << "a different model file";
  Collected d, e;
  EXPECT_EQ(run(cache, engine, d).outcome, Outcome::Bypass);
  d.wait();
  hashes_.hash_queued();
  EXPECT_EQ(run(cache, engine, e).outcome, Outcome::Miss);
  e.wait();
}

TEST_F(ResponseCacheTest, TtlExpiresEntries) {
  CacheOptions o;
  o.ttl_ms = 150;
  auto cache = make(o);
  auto engine = script();
  Collected a, b, c;
  run(*cache, engine, a);
  a.wait();
  cache->flush();
  EXPECT_EQ(run(*cache, engine, b).outcome, Outcome::Hit);
  b.wait();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(run(*cache, engine, c).outcome, Outcome::Miss);
  c.wait();
}

TEST_F(ResponseCacheTest, SizeBoundEvictsLeastRecentlyUsed) {
  auto engine = script();
  // Measure one entry, then allow a little over two of them.
  int64_t one = 0;
  {
    auto probe = make();
    Collected a;
    run(*probe, engine, a);
    a.wait();
    probe->flush();
    one = probe->stats().bytes;
    probe->clear();
  }
  ASSERT_GT(one, 0);
  CacheOptions o;
  o.max_bytes = one * 2 + one / 2;
  auto cache = make(o);
  auto req = [](int i) {
    auto r = greedy();
    r.prompt.push_back(1000 + i);
    return r;
  };
  for (int i = 0; i < 3; ++i) {
    Collected out;
    EXPECT_EQ(run(*cache, engine, out, req(i)).outcome, Outcome::Miss);
    out.wait();
    cache->flush();
  }
  EXPECT_LE(cache->stats().bytes, o.max_bytes);
  Collected newest, oldest;
  EXPECT_EQ(run(*cache, engine, newest, req(2)).outcome, Outcome::Hit);
  newest.wait();
  EXPECT_EQ(run(*cache, engine, oldest, req(0)).outcome, Outcome::Miss);
  oldest.wait();

  // An answer larger than the whole cache is not kept at all.
  o.max_bytes = one / 2;
  auto tiny = make(o);
  tiny->clear();
  Collected big, again;
  run(*tiny, engine, big, req(9));
  big.wait();
  tiny->flush();
  EXPECT_EQ(tiny->stats().bytes, 0);
}

TEST_F(ResponseCacheTest, CancellingAReplayStopsItAsCancelled) {
  auto cache = make();
  auto engine = script();
  Collected a;
  run(*cache, engine, a);
  a.wait();
  // The second request cancels itself from its first token.
  std::promise<Canceller> canceller;
  auto ready = canceller.get_future().share();
  std::vector<TokenEvent> got;
  Collected done;
  const auto sub = cache->submit(
      model_, 512, greedy(), {},
      [&](const TokenEvent& ev) {
        got.push_back(ev);
        ready.get()();
      },
      done.on_done(), engine.generator());
  ASSERT_EQ(sub.outcome, Outcome::Hit);
  canceller.set_value(sub.cancel);
  const auto r = done.wait();
  EXPECT_EQ(r.stop_reason, StopReason::Cancelled);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(r.timings.generated_tokens, 1);
  EXPECT_EQ(r.text, "Once");
  EXPECT_EQ(cache->stats().stored, 1) << "a cancelled replay does not touch the entry";
}

TEST_F(ResponseCacheTest, AnUnreadableEntryIsAMiss) {
  auto cache = make();
  auto engine = script();
  Collected a;
  run(*cache, engine, a);
  a.wait();
  cache->flush();
  // Overwrite every entry with junk through the store.
  const auto key = cache_key({rmm::sha256_file_hex(model_), 512}, greedy());
  store_->cache_put(key, "{\"format\":1}", {});
  Collected b;
  EXPECT_EQ(run(*cache, engine, b).outcome, Outcome::Miss);
  b.wait();
  EXPECT_EQ(cache->stats().errors, 1);
}
