#pragma once
// Owns the models the server serves. Each runs in a supervised worker process
// (the `rmm` binary in worker mode) so that a crash in llama.cpp or a GPU
// driver takes down only that model: its requests end with 503, and it
// reloads on the next request (with backoff while it keeps crashing). The
// server keeps a vocabulary-only copy of each model for tokenizing and chat
// formatting. With no worker binary set, models run in this process.
//
// Any number stay loaded within per-device memory budgets, capped before each
// load by what the devices have free then: the memory planner decides whether
// it fits, least recently used idle
// models are evicted to make room, and a reaper unloads models whose
// keep-alive ran out. Loads run without the host's lock, so requests to
// other models go on; concurrent requests for a model that is loading wait
// for that one load.
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/batch_engine.hpp"
#include "engine/chat_format.hpp"
#include "engine/generator.hpp"
#include "engine/model.hpp"
#include "models/memory_planner.hpp"
#include "serving/recent_speeds.hpp"

namespace rmm::cache {
class ResponseCache;
}
namespace rmm::worker {
class WorkerClient;
}

namespace rmm::serving {

inline constexpr int64_t kKeepForever = -1;
// Without -c, each conversation gets the model's training context up to this
// many tokens: enough for long chats, and a KV cache that a laptop holds (an
// 8B Llama at 8192 tokens x 4 slots takes 4 GiB). A request may ask for more
// (num_ctx), up to the training context.
inline constexpr int kDefaultContextCap = 8192;
// Halving the default context stops here when memory is short (or at the
// training context when that is smaller).
inline constexpr int kMinDefaultContext = 2048;

struct HostedModel;

struct ModelFile {
  std::string id;  // the one name the server shows for it (the registry's short name)
  std::filesystem::path path;
  uintmax_t size = 0;
  int64_t modified = 0;  // unix s
};

struct HostOptions {
  std::filesystem::path models_dir;
  // Folders a request may name a model file in by path (the models dir, the
  // configured and the added ones; symlinks resolved), asked per request as
  // folders come and go. Other paths are refused with Forbidden, whether or
  // not they exist, unless allow_model_paths. Optional.
  std::function<std::vector<std::filesystem::path>()> model_dirs;
  bool allow_model_paths = false;
  // A model file's registry names (its short name first, then aliases) for
  // API keys' model patterns and id_of; the file stem is always one. Optional.
  std::function<std::vector<std::string>(const std::filesystem::path&)> names_of;
  // n_seq = --parallel; n_ctx = -c, over all slots (per slot with kv_unified).
  // n_ctx 0: each slot gets the model's training context (at most
  // kDefaultContextCap), and when that does not fit in memory (or would push
  // layers off the GPU) fewer slots, then a halved context, are tried.
  engine::ContextParams context;
  bool fixed_slots = false;   // --parallel was given: never fewer slots
  int gpu_layers = -1;        // -1: as many as fit
  std::string chat_template;  // "" : the model's own (chatml when it has none)
  size_t max_queue = 64;      // waiting requests past the busy slots; more get 503
  // Generations go through this response cache when set (not owned; outlives the host).
  cache::ResponseCache* cache = nullptr;
  // Model registry names (short names, aliases) → files; nullopt for an
  // unknown name, rmm::Error for an ambiguous one or a file that is gone. Optional.
  std::function<std::optional<std::filesystem::path>(const std::string&)> resolve_name;
  // What loaded models may use per device; empty: models::default_budgets of
  // the devices at start (free memory minus a safety margin).
  std::vector<models::DeviceBudget> budgets;
  // How long a model stays loaded after its last request (ms); kKeepForever: always.
  int64_t keep_alive_ms = 5 * 60 * 1000;
  // Called on the engine thread when a generation of a model ends (not for
  // cache replays), to record the use and its speeds; it must not block. Optional.
  std::function<void(const HostedModel&, const engine::GenerationResult&)> on_generation_done;
  // The rmm binary that runs models as workers (`rmm worker`); empty: each
  // model runs on an engine thread of this process.
  std::string worker_exe;
  std::string worker_log_level = "warn";
  // The models there are to serve (the registry's generation models, nested
  // pulls and extra dirs included), each with its unique id. Default: the
  // .gguf files directly in models_dir, by file stem.
  std::function<std::vector<ModelFile>()> catalog;
  // Loads a model as planned (`progress` gets 0..1). Default: the engine in
  // this process or in a worker process (see worker_exe). Tests give a fake,
  // so that placement and eviction run without llama.cpp.
  std::function<std::shared_ptr<HostedModel>(const std::filesystem::path&, const models::MemoryPlan&,
                                             const engine::ContextParams&, const std::function<void(float)>&)>
      loader;
  // What each device has free now (capping the budgets before each load).
  // Default: models::free_now(). Tests give fixed figures.
  std::function<std::vector<models::DeviceBudget>()> free_memory;
  // A worker with requests that says nothing for this long (ms) is taken as
  // hung and killed; its requests end with 503. Its engine reports after
  // every step, so this bounds one decode step. 0: never.
  int64_t worker_timeout_ms = 5 * 60 * 1000;
};

// Reloads after a crash wait this long (ms) once a model crashed `crashes`
// times within kCrashWindowMs: none after the first, then 1 s doubling to 30 s.
int64_t reload_delay_ms(int crashes);
inline constexpr int64_t kCrashWindowMs = 5 * 60 * 1000;

struct HostedModel {
  std::string id;  // id_of(path): its catalog id, the stem only for a file outside the catalog
  std::filesystem::path path;
  // The whole model in-process; vocabulary and chat template only when a worker holds the weights.
  std::shared_ptr<engine::Model> model;
  std::unique_ptr<engine::ChatFormatter> chat;
  // Where its generations run: the engine on a thread of this process, or a worker process.
  std::unique_ptr<engine::Generator> generator;
  worker::WorkerClient* worker = nullptr;  // `generator`, when it is a worker process
  std::string description;                 // llama.cpp's, e.g. "llama 8B Q4_K - Medium"
  int64_t created = 0;                     // unix time of the load
  models::MemoryPlan plan;
  // Updated on each use and while requests run (unix ms), and from requests' keep_alive.
  std::atomic<int64_t> last_use_ms{0};
  std::atomic<int64_t> keep_alive_ms{0};
  std::atomic<bool> pinned{false};
  int n_ctx_train = 0;  // the model's training context
  bool idle() const { return generator->running() == 0 && generator->queued() == 0; }
  bool lost() const;  // its worker died
  // Unix ms when the reaper unloads it (when idle by then); kKeepForever: never.
  int64_t expires_at_ms() const;
};

// Per request: how long to keep the model after it (nullopt: the model's
// current setting, the server default for a new load) and whether to pin it.
struct UseOptions {
  std::optional<int64_t> keep_alive_ms;
  std::optional<bool> pin;
  // The name comes from this machine's user (rmm serve --model), not from a
  // request: any path may be loaded.
  bool local = false;
  // Tokens one conversation needs (Ollama's num_ctx; 0: any). A model
  // loaded with less is reloaded with more once idle, where memory allows.
  int num_ctx = 0;
};

// What loading a model would take now, worked out as acquire() would but
// without loading, reserving or evicting anything (for a front end to show
// before the user loads).
struct LoadPreview {
  std::string id;
  std::filesystem::path path;
  bool loaded = false;            // already loaded as asked: acquire() would use it as it is
  models::MemoryPlan plan;        // per device: needed vs available; GPU layers of max
  engine::ContextParams context;  // the context the load would get
  int n_ctx_train = 0;
  // Idle models acquire() would unload first to make room, least recently used first.
  std::vector<std::string> evict;
  // "" when it fits; else acquire()'s OutOfMemory message (needed vs free, what is kept loaded).
  std::string refusal;
  bool fits() const { return refusal.empty(); }
};

class ModelHost {
 public:
  explicit ModelHost(HostOptions options);
  ~ModelHost();

  // The model `path_or_id` (a path, or a name), loading it when needed (the
  // planner decides; least recently used idle unpinned models are evicted to
  // make room). Blocks for the load: never call it on the I/O thread.
  // `progress` gets 0..1 when this call does the load. Throws rmm::Error:
  // NotFound, BadFile, OutOfMemory (message: needed vs free), Cancelled.
  std::shared_ptr<HostedModel> acquire(const std::string& path_or_id, const UseOptions& use = {},
                                       const std::function<void(float)>& progress = {});
  // What acquire(path_or_id, use) would load and evict now (see LoadPreview).
  // Reads the file's header. Throws rmm::Error: NotFound, Forbidden,
  // InvalidArgument (num_ctx, not GGUF), BadFile.
  LoadPreview preview(const std::string& path_or_id, const UseOptions& use = {}) const;
  void unload();                       // every model
  bool unload(const std::string& id);  // false when no loaded model has that name
  bool pin(const std::string& id, bool pinned);
  // The model named at start (rmm serve --model): requests that name no
  // model get it, its file name works as its name wherever the file lies,
  // and it is loaded again after an unload or a crash; `pinned`: it never
  // expires or gets evicted.
  void set_default_model(const std::filesystem::path& path, bool pinned);
  // A loaded model named `id` (any name acquire accepts), or nullptr. Never
  // loads. An empty `id` finds the default model, or else the only loaded one.
  std::shared_ptr<HostedModel> find(const std::string& id) const;
  // Why a request that names no model cannot be served, naming the models
  // there are ("" when find("") or acquire("") would succeed).
  std::string no_model_reason() const;
  // Whether `m` must be reloaded to give a conversation `use.num_ctx` tokens.
  static bool needs_more_context(const HostedModel& m, const UseOptions& use);
  // Marks a use: last use now, and the request's keep_alive / pin.
  void touch(HostedModel& m, const UseOptions& use = {}) const;
  std::shared_ptr<HostedModel> current() const;              // the most recently used model
  std::vector<std::shared_ptr<HostedModel>> loaded() const;  // most recently used first
  std::vector<int> worker_pids() const;                      // of the loaded models' live workers
  bool loading() const;
  bool loading(const std::string& path_or_id) const;
  int64_t loads_started() const { return loads_started_.load(); }
  std::vector<models::DeviceBudget> budgets() const { return budgets_; }
  std::vector<models::DeviceBudget> available() const;  // budgets minus what loaded and loading models hold

  std::vector<ModelFile> list_files() const;  // the catalog, by id
  // The id the server shows for the model at `path`: its catalog id, else
  // (a file outside the models folders) its file stem.
  std::string id_of(const std::filesystem::path& path) const;
  // A name (registry name, file name or stem in the models dirs) or a path
  // inside the models dirs (any path when `local` or allow_model_paths).
  // Throws NotFound, or Forbidden for a path outside (whether it exists or not).
  std::filesystem::path resolve(const std::string& path_or_id, bool local = false) const;
  // The names API key patterns are matched against: the file stem and the registry's names.
  std::vector<std::string> names_of(const std::filesystem::path& path) const;
  const HostOptions& options() const { return options_; }
  // The generations of every model that ended in the last minute (not cache replays).
  // Shared, so that a generation ending late never outlives it.
  const std::shared_ptr<RecentSpeeds>& recent() const { return recent_; }
  void cancel_all();

  // Runs `work` (a load a request asked for) on a thread the host owns, so
  // that it never outlives the host or the server it reports to.
  void run_in_background(std::function<void()> work);
  // Cancels a load in progress and waits for the background threads. Call it
  // before the server the work reports to goes away; also done on destruction.
  void shutdown();

 private:
  struct Pending {
    std::shared_future<std::shared_ptr<HostedModel>> result;
    models::MemoryPlan plan;  // reserved while it loads (empty until planned)
  };
  // The budgets minus what loaded (but those in `without`) and loading models hold.
  std::vector<models::DeviceBudget> available_locked(
      const std::vector<std::shared_ptr<HostedModel>>& without = {}) const;
  // `room` capped by what is free on the devices now: loads in progress may
  // not have allocated theirs yet, and `freed` (models being evicted) give theirs back.
  std::vector<models::DeviceBudget> capped_locked(
      std::vector<models::DeviceBudget> room, const std::vector<models::DeviceBudget>& free,
      const std::vector<std::shared_ptr<HostedModel>>& freed) const;
  // What a load of `path` takes: the context and plan that fit (evicting the
  // least recently used idle models into `evicted` until they do), reserved
  // in pending_. Throws OutOfMemory, InvalidArgument (num_ctx, not GGUF).
  struct Placement {
    models::MemoryPlan plan;
    engine::ContextParams context;
    int n_ctx_train = 0;
  };
  Placement place(const std::filesystem::path& path, const std::string& id, const UseOptions& use,
                  std::vector<std::shared_ptr<HostedModel>>& evicted);
  // place() in two steps, so that preview() decides alike without the effects:
  // fit_input reads the file's header and lists the contexts to try (outside
  // the lock; throws InvalidArgument, BadFile); fit_locked (mutex_ held) picks
  // the placement, the idle models to evict for it or, when it cannot fit, why.
  struct Fit {
    Placement placement;
    std::vector<std::shared_ptr<HostedModel>> evict;
    std::string refusal;
  };
  struct FitInput;
  FitInput fit_input(const std::filesystem::path& path, const std::string& id, const UseOptions& use) const;
  Fit fit_locked(const FitInput& in, const std::vector<models::DeviceBudget>& free) const;
  void reap();
  // Throws Unavailable while `path` waits out its crash backoff.
  void check_crash_backoff_locked(const std::filesystem::path& path, const std::string& id) const;
  // Takes models whose worker died out of the loaded set and files their crash.
  void collect_lost() const;
  // Kills workers silent for longer than worker_timeout_ms while they have requests.
  void kill_hung() const;
  std::shared_ptr<HostedModel> load_model(const std::filesystem::path& path, const std::string& id,
                                          const models::MemoryPlan& plan,
                                          const engine::ContextParams& context,
                                          const std::function<void(float)>& progress) const;
  // A loaded model that serves `use` as it is (marked used), or nullptr after
  // taking it out to load again with more context. Throws Unavailable while
  // it is busy.
  std::shared_ptr<HostedModel> reuse(std::shared_ptr<HostedModel> m, const UseOptions& use);

  HostOptions options_;
  std::vector<models::DeviceBudget> budgets_;
  mutable std::mutex mutex_;
  std::filesystem::path default_model_;  // guarded by mutex_
  bool default_pinned_ = false;
  mutable std::map<std::filesystem::path, std::shared_ptr<HostedModel>> models_;  // by file
  struct Crashes {
    int count = 0;  // within kCrashWindowMs of each other
    int64_t last_ms = 0;
    std::string cause;
  };
  mutable std::map<std::filesystem::path, Crashes> crashes_;
  std::map<std::filesystem::path, Pending> pending_;  // loads in progress
  std::atomic<int64_t> loads_started_{0};
  std::atomic<bool> stopping_{false};  // cancels loads (llama.cpp checks it between tensors)
  std::condition_variable reaper_wake_;
  std::thread reaper_;
  std::mutex background_mutex_;
  struct Background {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Background> background_;
  std::shared_ptr<RecentSpeeds> recent_ = std::make_shared<RecentSpeeds>();
};

std::string model_id_for(const std::filesystem::path& path);

// When a prompt of `tokens` does not fit one of `m`'s conversations: what
// holds it and how to get more room; "" when it fits.
// `answer_tokens` of `tokens` are a request's continue_from (named in the message).
std::string context_overflow(const HostedModel& m, size_t tokens, size_t answer_tokens = 0);

// Ollama's keep_alive as text: a duration ("5m", "1h30m" is not needed:
// "90s", "1500ms", "300" seconds), "0" to unload after the request, a
// negative value ("-1", "-1m") to keep it forever. Throws
// rmm::Error(InvalidArgument) naming `what` and saying what 0 and -1 mean.
int64_t parse_keep_alive_ms(const std::string& text, const std::string& what = "keep_alive");
// keep_alive as a number of seconds (negative: forever).
int64_t keep_alive_seconds_ms(double seconds);

}  // namespace rmm::serving
