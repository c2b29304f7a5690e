// ModelHost's scheduling, as Ollama's scheduler tests do it: a fake loader
// (no llama.cpp), fixed free memory and budgets sized from the planner's own
// figures for real GGUF files, and many cases of placement and eviction.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "core/error.hpp"
#include "models/memory_planner.hpp"
#include "serving/model_host.hpp"
#include "support/test_env.hpp"

namespace rmm::test {
namespace {

using serving::HostedModel;
using serving::HostOptions;
using serving::ModelHost;
using serving::UseOptions;

// A generator whose load the test sets by hand.
class FakeEngine : public engine::Generator {
 public:
  explicit FakeEngine(const engine::ContextParams& c) {
    shape_.n_seq = c.n_seq;
    shape_.n_ctx = c.n_ctx;
    shape_.n_ctx_seq = c.kv_unified ? c.n_ctx : c.n_ctx / c.n_seq;
  }
  engine::RequestId submit(engine::GenerateRequest, engine::TokenCallback, engine::DoneCallback) override {
    throw Error(ErrorKind::Internal, "not used");
  }
  void validate(const engine::GenerateRequest&) const override {}
  void cancel(engine::RequestId) override {}
  void cancel_all() override {}
  size_t queued() const override { return 0; }
  size_t running() const override { return running_; }
  engine::ContextShape shape() const override { return shape_; }
  std::atomic<size_t> running_{0};

 private:
  engine::ContextShape shape_;
};

engine::ContextParams small_context() {
  engine::ContextParams c;
  c.n_ctx = 256;
  c.n_seq = 1;
  c.n_batch = 32;
  c.n_ubatch = 32;
  return c;
}

// What the planner says `file` needs with `c` (flash attention "auto" counts as on).
uint64_t need(const std::filesystem::path& file, const engine::ContextParams& c) {
  models::PlanRequest req;
  req.params.n_ctx = static_cast<uint32_t>(c.n_ctx);
  req.params.n_seq = static_cast<uint32_t>(c.n_seq);
  req.params.n_batch = static_cast<uint32_t>(c.n_batch);
  req.params.n_ubatch = static_cast<uint32_t>(c.n_ubatch);
  req.params.flash_attn = c.flash_attn != 0;
  req.params.kv_unified = c.kv_unified;
  return models::plan_memory(file, req, {{"CPU", false, 1ull << 40}}).need_on("CPU");
}

class Scheduler : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* f : {"stories260K.gguf", "TinyStories-656K-Q8_0.gguf", "llama-2-tiny-random.gguf"}) {
      files_.push_back(shared_model(f));
      if (files_.back().empty()) GTEST_SKIP() << "shared models are absent in " << shared_models_dir();
    }
    options_.context = small_context();
    options_.keep_alive_ms = serving::kKeepForever;
    options_.free_memory = [this] { return std::vector<models::DeviceBudget>{{"CPU", false, free_.load()}}; };
    options_.loader = [this](const std::filesystem::path& path, const models::MemoryPlan& plan,
                             const engine::ContextParams& context, const std::function<void(float)>&) {
      {
        std::unique_lock lock(mutex_);
        ++loads_;
        gate_.wait(lock, [this] { return open_; });
      }
      if (fail_next_.exchange(false)) throw Error(ErrorKind::BadFile, "the fake load failed");
      auto m = std::make_shared<HostedModel>();
      m->id = serving::model_id_for(path);
      m->path = path;
      m->plan = plan;
      m->generator = std::make_unique<FakeEngine>(context);
      return m;
    };
  }
  // A host whose CPU budget holds `bytes`.
  std::unique_ptr<ModelHost> host(uint64_t bytes) {
    auto o = options_;
    o.budgets = {{"CPU", false, bytes}};
    return std::make_unique<ModelHost>(o);
  }
  uint64_t size(size_t i) const { return need(files_[i], options_.context); }
  static FakeEngine& engine_of(const std::shared_ptr<HostedModel>& m) {
    return static_cast<FakeEngine&>(*m->generator);
  }
  std::vector<std::string> loaded_ids(const ModelHost& h) const {
    std::vector<std::string> ids;
    for (const auto& m : h.loaded()) ids.push_back(m->id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  std::string id(size_t i) const { return serving::model_id_for(files_[i]); }
  static std::vector<std::string> sorted(std::vector<std::string> ids) {
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  static UseOptions local() {
    UseOptions u;
    u.local = true;  // the shared models lie outside any models dir
    return u;
  }
  static std::string error_of(const std::function<void()>& f, ErrorKind* kind = nullptr) {
    try {
      f();
    } catch (const Error& e) {
      if (kind) *kind = e.kind();
      return e.what();
    }
    return "";
  }

  std::vector<std::filesystem::path> files_;
  HostOptions options_;
  std::atomic<uint64_t> free_{1ull << 40};
  std::mutex mutex_;
  std::condition_variable gate_;
  bool open_ = true;
  int loads_ = 0;
  std::atomic<bool> fail_next_{false};
};

TEST_F(Scheduler, ModelsThatFitTogetherStayTogether) {
  auto h = host(size(0) + size(1) + size(2));
  for (size_t i = 0; i < 3; ++i) h->acquire(files_[i].string(), local());
  EXPECT_EQ(loaded_ids(*h).size(), 3u);
  EXPECT_EQ(loads_, 3);
  // Asking again is a use, not a load.
  h->acquire(files_[0].string(), local());
  EXPECT_EQ(loads_, 3);
}

TEST_F(Scheduler, TheLeastRecentlyUsedIdleModelMakesRoom) {
  auto h = host(size(0) + size(1) + size(2) - 1);  // any two, never all three
  auto a = h->acquire(files_[0].string(), local());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto b = h->acquire(files_[1].string(), local());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  h->touch(*a);  // a is now the most recent
  a.reset();
  b.reset();
  h->acquire(files_[2].string(), local());
  EXPECT_EQ(loaded_ids(*h), sorted({id(0), id(2)}));
}

TEST_F(Scheduler, PinnedAndBusyModelsAreNeverEvictedAndTheRefusalSaysWhy) {
  auto h = host(size(0) + size(1) + size(2) - 1);  // any two, never all three
  auto a = h->acquire(files_[0].string(), local());
  auto b = h->acquire(files_[1].string(), local());
  ASSERT_TRUE(h->pin(id(0), true));
  engine_of(b).running_ = 1;
  ErrorKind kind{};
  const std::string why = error_of([&] { h->acquire(files_[2].string(), local()); }, &kind);
  EXPECT_EQ(kind, ErrorKind::OutOfMemory);
  EXPECT_NE(why.find(id(0) + " (pinned)"), std::string::npos) << why;
  EXPECT_NE(why.find(id(1) + " (busy)"), std::string::npos) << why;
  EXPECT_EQ(loaded_ids(*h), sorted({id(0), id(1)}));
  // Once b is idle it may go.
  engine_of(b).running_ = 0;
  b.reset();
  h->acquire(files_[2].string(), local());
  EXPECT_EQ(loaded_ids(*h), sorted({id(0), id(2)}));
}

TEST_F(Scheduler, AModelThatCannotFitEvenAfterEvictionsEvictsNothing) {
  // llama-2-tiny-random's 32000-token vocabulary makes its logits buffer alone bigger than the other two.
  ASSERT_GT(size(2), size(0) + size(1));
  auto h = host(size(0) + size(1));
  h->acquire(files_[0].string(), local());
  h->acquire(files_[1].string(), local());
  ErrorKind kind{};
  const std::string why = error_of([&] { h->acquire(files_[2].string(), local()); }, &kind);
  EXPECT_EQ(kind, ErrorKind::OutOfMemory) << why;
  EXPECT_EQ(loaded_ids(*h), sorted({id(0), id(1)}));
}

TEST_F(Scheduler, WhatTheDevicesHaveFreeCapsTheBudget) {
  auto h = host(1ull << 40);
  free_ = size(0) - 1;  // another program took the memory since the start
  ErrorKind kind{};
  error_of([&] { h->acquire(files_[0].string(), local()); }, &kind);
  EXPECT_EQ(kind, ErrorKind::OutOfMemory);
  free_ = size(0) + 1;
  EXPECT_NO_THROW(h->acquire(files_[0].string(), local()));
}

TEST_F(Scheduler, ConcurrentRequestsForALoadingModelShareOneLoad) {
  auto h = host(1ull << 40);
  {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  auto first = std::async(std::launch::async, [&] { return h->acquire(files_[0].string(), local()); });
  for (int i = 0; i < 200 && !h->loading(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(h->loading());
  auto second = std::async(std::launch::async, [&] { return h->acquire(files_[0].string(), local()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  {
    std::lock_guard lock(mutex_);
    open_ = true;
  }
  gate_.notify_all();
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(loads_, 1);
}

TEST_F(Scheduler, AFailedLoadReservesNothing) {
  auto h = host(size(0) + 1);
  fail_next_ = true;
  ErrorKind kind{};
  EXPECT_EQ(error_of([&] { h->acquire(files_[0].string(), local()); }, &kind), "the fake load failed");
  EXPECT_EQ(kind, ErrorKind::BadFile);
  EXPECT_FALSE(h->loading());
  EXPECT_EQ(h->available().front().bytes, size(0) + 1);
  EXPECT_NO_THROW(h->acquire(files_[0].string(), local()));
}

// Without -c each slot gets the training context; short memory takes slots first, then halves the context.
TEST_F(Scheduler, TheContextIsChosenFromMemory) {
  options_.context.n_ctx = 0;
  options_.context.n_seq = 4;
  options_.context.n_batch = 512;
  options_.context.n_ubatch = 512;
  auto with = [&](int per_slot, int slots) {
    auto c = options_.context;
    c.n_ctx = per_slot * slots;
    c.n_seq = slots;
    return need(files_[0], c);
  };
  struct Case {
    uint64_t budget;
    int slots;
  };
  // stories260K was trained on 2048 tokens: each slot keeps them, and the slots give way.
  for (const auto& c : {Case{with(2048, 4), 4}, Case{with(2048, 3), 3}, Case{with(2048, 1), 1}}) {
    auto h = host(c.budget);
    auto m = h->acquire(files_[0].string(), local());
    EXPECT_EQ(m->generator->shape().n_seq, c.slots) << c.budget;
    EXPECT_EQ(m->generator->shape().n_ctx_seq, 2048) << c.budget;
  }
  // The context is never halved below 2048 (nor below what the model was trained on): refused.
  ErrorKind kind{};
  error_of([&] { host(with(2048, 1) - 1)->acquire(files_[0].string(), local()); }, &kind);
  EXPECT_EQ(kind, ErrorKind::OutOfMemory);
  // --parallel given: the slots stay, so a load that does not fit them is refused.
  options_.fixed_slots = true;
  error_of([&] { host(with(2048, 3))->acquire(files_[0].string(), local()); }, &kind);
  EXPECT_EQ(kind, ErrorKind::OutOfMemory);
  // llama-2-tiny-random was trained on 4096: with room for one slot of 2048 only, it gets that.
  options_.fixed_slots = false;
  auto random = [&](int per_slot) {
    auto c = options_.context;
    c.n_ctx = per_slot;
    c.n_seq = 1;
    return need(files_[2], c);
  };
  ASSERT_LT(random(2048), random(4096));
  auto m = host(random(4096) - 1)->acquire(files_[2].string(), local());
  EXPECT_EQ(m->generator->shape().n_seq, 1);
  EXPECT_EQ(m->generator->shape().n_ctx_seq, 2048);
}

TEST_F(Scheduler, NumCtxReloadsAnIdleModelAndWaitsForABusyOne) {
  auto h = host(1ull << 40);
  auto m = h->acquire(files_[0].string(), local());
  EXPECT_EQ(m->generator->shape().n_ctx_seq, 256);
  UseOptions more = local();
  more.num_ctx = 1024;
  engine_of(m).running_ = 1;
  ErrorKind kind{};
  error_of([&] { h->acquire(files_[0].string(), more); }, &kind);
  EXPECT_EQ(kind, ErrorKind::Unavailable);
  engine_of(m).running_ = 0;
  auto bigger = h->acquire(files_[0].string(), more);
  EXPECT_EQ(bigger->generator->shape().n_ctx_seq, 1024);
  EXPECT_EQ(loads_, 2);
  more.num_ctx = 4096;  // more than its 2048 trained
  error_of([&] { h->acquire(files_[0].string(), more); }, &kind);
  EXPECT_EQ(kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(h->find(id(0)), bigger);  // still loaded as it was
}

TEST_F(Scheduler, RequestsNamingNoModelGetTheDefaultOrTheOnlyOne) {
  auto h = host(1ull << 40);
  EXPECT_EQ(h->find(""), nullptr);
  EXPECT_NE(h->no_model_reason(), "");
  auto a = h->acquire(files_[0].string(), local());
  EXPECT_EQ(h->find(""), a);  // the only one
  auto b = h->acquire(files_[1].string(), local());
  EXPECT_EQ(h->find(""), nullptr);  // two: the request must choose
  EXPECT_NE(h->no_model_reason().find("2 are loaded"), std::string::npos) << h->no_model_reason();
  h->set_default_model(b->path, true);
  EXPECT_EQ(h->find(""), b);
  EXPECT_EQ(h->no_model_reason(), "");
  // Unloaded, it comes back for a request naming none, or naming its file name, pinned.
  ASSERT_TRUE(h->unload(b->id));
  b.reset();
  auto again = h->acquire("");
  EXPECT_EQ(again->path, std::filesystem::weakly_canonical(files_[1]));
  EXPECT_TRUE(again->pinned);
  ASSERT_TRUE(h->unload(again->id));
  again.reset();
  EXPECT_EQ(h->acquire(id(1))->path, std::filesystem::weakly_canonical(files_[1]));
}

// The desktop's Models screen shows this before a load: what acquire() would do, with nothing done.
TEST_F(Scheduler, APreviewSaysWhatALoadWouldTakeAndDoesNothing) {
  auto h = host(size(0) + size(1) + size(2) - 1);  // any two, never all three
  auto a = h->acquire(files_[0].string(), local());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto b = h->acquire(files_[1].string(), local());
  a.reset();
  b.reset();
  const auto available = h->available().front().bytes;
  const auto p = h->preview(files_[2].string(), local());
  EXPECT_TRUE(p.fits()) << p.refusal;
  EXPECT_FALSE(p.loaded);
  EXPECT_EQ(p.id, id(2));
  EXPECT_EQ(p.plan.need_on("CPU"), size(2));  // the planner's figure for the fixed context
  EXPECT_EQ(p.context.n_ctx, options_.context.n_ctx);
  EXPECT_EQ(p.n_ctx_train, 4096);                       // llama-2-tiny-random (shared models' README)
  EXPECT_EQ(p.evict, std::vector<std::string>{id(0)});  // the least recently used idle one
  // Nothing was loaded, reserved or evicted.
  EXPECT_EQ(loads_, 2);
  EXPECT_EQ(loaded_ids(*h), sorted({id(0), id(1)}));
  EXPECT_EQ(h->available().front().bytes, available);
  EXPECT_FALSE(h->loading());
  // The load then does what the preview said.
  h->acquire(files_[2].string(), local());
  EXPECT_EQ(loaded_ids(*h), sorted({id(1), id(2)}));
  // A loaded model is previewed as it is.
  const auto again = h->preview(id(2), local());
  EXPECT_TRUE(again.loaded);
  EXPECT_TRUE(again.evict.empty());
  EXPECT_EQ(again.plan.need_on("CPU"), size(2));
}

TEST_F(Scheduler, APreviewOfAModelThatCannotFitGivesTheRefusal) {
  auto h = host(size(0) + size(1));  // llama-2-tiny-random needs more than both together
  h->acquire(files_[0].string(), local());
  h->acquire(files_[1].string(), local());
  const auto p = h->preview(files_[2].string(), local());
  EXPECT_FALSE(p.fits());
  EXPECT_FALSE(p.plan.fits);
  EXPECT_TRUE(p.evict.empty());
  EXPECT_GT(p.plan.need_on("CPU"), size(0) + size(1));
  const std::string why = error_of([&] { h->acquire(files_[2].string(), local()); });
  EXPECT_EQ(p.refusal, why);  // the very message the load is refused with
  EXPECT_EQ(loaded_ids(*h), sorted({id(0), id(1)}));
  ErrorKind kind{};
  UseOptions too_long = local();
  too_long.num_ctx = 1 << 20;
  error_of([&] { h->preview(files_[0].string(), too_long); }, &kind);
  EXPECT_EQ(kind, ErrorKind::InvalidArgument);
}

}  // namespace
}  // namespace rmm::test
