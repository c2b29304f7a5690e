#pragma once
// The server side of a worker: starts `rmm worker` for one model, waits for
// its load, and serves generations through it as an engine::Generator.
// Callbacks run on the client's reader thread. When the worker dies, every
// request in flight ends with StopReason::Error and ErrorKind::Unavailable
// (a 503: the model reloads on the next request), and alive() turns false.
#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "engine/generator.hpp"
#include "worker/wire.hpp"

namespace rmm::worker {

struct WorkerOptions {
  std::string exe;        // the rmm binary
  std::string log_level;  // passed to the worker's --log-level
  LoadRequest load;
  int n_vocab = 0;                            // for validating requests here, before they travel
  std::function<void(float)> progress;        // 0..1 while loading, on the starting thread
  const std::atomic<bool>* cancel = nullptr;  // stops a load in progress
};

class WorkerClient : public engine::Generator {
 public:
  // Spawns the worker and waits until it has loaded the model. Throws the
  // worker's load error (NotFound, BadFile, OutOfMemory, ...), Cancelled, or
  // Unavailable when the worker died while loading (with its cause).
  static std::unique_ptr<WorkerClient> start(WorkerOptions options);
  // Cancels what is in flight, lets it end (callbacks run), stops the worker.
  ~WorkerClient() override;

  engine::RequestId submit(engine::GenerateRequest request, engine::TokenCallback on_token,
                           engine::DoneCallback on_done) override;
  void validate(const engine::GenerateRequest& request) const override;
  void cancel(engine::RequestId id) override;
  void cancel_all() override;
  size_t queued() const override;
  size_t running() const override;
  engine::ContextShape shape() const override;

  const WorkerInfo& info() const;
  pid_t pid() const;
  bool alive() const;
  // Why the worker stopped ("was killed by SIGKILL (signal 9)"); empty while alive.
  std::string exit_cause() const;
  // How long it has had requests without a word from it (ms; 0 when idle).
  // The engine reports after every step, so a large value means it is hung.
  int64_t silent_ms() const;
  // Ends a hung worker: SIGKILL, with `why` leading the cause its requests get.
  void kill_hung(const std::string& why);

  struct State;  // shared with the reader thread, which may outlive this object

 private:
  explicit WorkerClient(std::shared_ptr<State> state) : s_(std::move(state)) {}
  std::shared_ptr<State> s_;
};

// "exited with status 1", "was killed by SIGKILL (signal 9)", from waitpid's status.
std::string describe_exit(int status);

}  // namespace rmm::worker
