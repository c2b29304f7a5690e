#include "worker/worker_client.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "core/log.hpp"
#include "worker/channel.hpp"

extern char** environ;

namespace rmm::worker {

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr auto kStopGrace = std::chrono::seconds(2);  // for the worker to exit once told

// Starts `rmm worker --fd 3` with the child's end of a socket pair as fd 3.
pid_t spawn_worker(const WorkerOptions& o, int child_fd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, child_fd, 3);  // dup2 clears close-on-exec on fd 3
  // Nothing else of the server's (listening socket, client connections, database files) goes along.
  posix_spawn_file_actions_addclosefrom_np(&fa, 4);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  // Its own process group: a Ctrl-C in the terminal reaches the server, which
  // ends its requests and then its workers, rather than killing them mid-token.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<std::string> args = {o.exe, "--log-level", o.log_level, "worker", "--fd", "3"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, o.exe.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    throw Error(ErrorKind::Internal, "cannot start the model worker " + o.exe + ": " + std::strerror(rc));
  return pid;
}

}  // namespace

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return std::string("was killed by ") + (abbrev ? std::string("SIG") + abbrev : "a signal") + " (signal " +
           std::to_string(sig) + ")";
  }
  return "stopped (wait status " + std::to_string(status) + ")";
}

struct WorkerClient::State {
  WorkerOptions opt;
  pid_t pid = -1;
  std::unique_ptr<Channel> channel;
  std::thread reader;

  mutable std::mutex mutex;
  std::condition_variable cv;
  float progress = 0.0f;
  bool ready = false;
  std::optional<Error> load_error;
  WorkerInfo info;
  struct Pending {
    engine::TokenCallback on_token;
    engine::DoneCallback on_done;
  };
  // Only the reader thread erases entries, so it may use one outside the lock.
  std::unordered_map<uint64_t, Pending> inflight;
  uint64_t next_id = 1;
  bool dead = false;      // the worker is gone; nothing more is accepted
  bool stopping = false;  // the end was asked for (unload, shutdown)
  std::string cause;
  std::string kill_reason;  // set when the server killed it as hung
  // Progress: the last bytes in, and since when requests have been waiting (steady ms).
  std::atomic<int64_t> last_frame_ms{0};
  int64_t busy_since_ms = 0;  // under mutex; when the first of the requests in flight came
  // The model file as it was at the load: a file rewritten in place under a
  // memory map is the usual cause of a SIGBUS, worth saying so.
  std::optional<std::pair<uintmax_t, std::filesystem::file_time_type>> file_at_load;
  std::string file_change() const;

  void read_loop();
  void handle(MsgType type, const std::string& payload);
  int reap();
};

void WorkerClient::State::handle(MsgType type, const std::string& payload) {
  Reader r(payload);
  switch (type) {
    case MsgType::Token: {
      const uint64_t id = r.u64();
      const auto ev = decode_token(r);
      r.end();
      Pending* p = nullptr;
      {
        std::lock_guard lock(mutex);
        if (auto it = inflight.find(id); it != inflight.end()) p = &it->second;
      }
      if (p && p->on_token) p->on_token(ev);
      return;
    }
    case MsgType::Done: {
      const uint64_t id = r.u64();
      const auto res = decode_done(r);
      r.end();
      Pending p;
      {
        std::lock_guard lock(mutex);
        auto it = inflight.find(id);
        if (it == inflight.end()) return;
        p = std::move(it->second);
        inflight.erase(it);
      }
      cv.notify_all();
      if (p.on_done) p.on_done(res);
      return;
    }
    case MsgType::Progress: {
      const float v = r.f32();
      r.end();
      std::lock_guard lock(mutex);
      progress = v;
      return;
    }
    case MsgType::Ready: {
      auto i = decode_info(r);
      r.end();
      {
        std::lock_guard lock(mutex);
        info = std::move(i);
        ready = true;
      }
      cv.notify_all();
      return;
    }
    case MsgType::Alive: r.end(); return;
    case MsgType::LoadFailed: {
      auto e = decode_error(r);
      r.end();
      {
        std::lock_guard lock(mutex);
        load_error = std::move(e);
      }
      cv.notify_all();
      return;
    }
    default:
      throw Error(ErrorKind::Internal,
                  "malformed worker message: unexpected type " + std::to_string(static_cast<int>(type)));
  }
}

std::string WorkerClient::State::file_change() const {
  std::error_code ec;
  const auto size = std::filesystem::file_size(opt.load.path, ec);
  if (ec) return "; the model file " + opt.load.path + " is gone from disk";
  const auto mtime = std::filesystem::last_write_time(opt.load.path, ec);
  if (file_at_load && (size != file_at_load->first || mtime != file_at_load->second))
    return "; the model file " + opt.load.path + " changed on disk while it was loaded";
  return "";
}

int WorkerClient::State::reap() {
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
  for (;;) {
    const pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid || (got < 0 && errno != EINTR)) return status;
    if (std::chrono::steady_clock::now() > deadline) {
      // It closed its socket but does not exit: it cannot serve anyway.
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void WorkerClient::State::read_loop() {
  FrameReader frames;
  std::vector<char> buf(1 << 16);
  MsgType type;
  std::string payload;
  for (;;) {
    const size_t n = channel->receive(buf.data(), buf.size());
    if (n == 0) break;
    last_frame_ms = steady_ms();
    frames.feed(buf.data(), n);
    try {
      while (frames.next(type, payload)) handle(type, payload);
    } catch (const Error& e) {
      spdlog::error("worker for {} (pid {}): {}; stopping it", opt.load.model_id, pid, e.what());
      kill(pid, SIGKILL);
      break;
    }
  }
  const int status = reap();
  std::unordered_map<uint64_t, Pending> orphans;
  bool asked;
  {
    std::lock_guard lock(mutex);
    dead = true;
    cause = kill_reason.empty() ? describe_exit(status) + (stopping ? "" : file_change())
                                : kill_reason + " and " + describe_exit(status);
    asked = stopping;
    orphans.swap(inflight);
  }
  cv.notify_all();
  if (!asked && ready) {
    spdlog::error(
        "the worker serving {} (pid {}) {}; {} request(s) in flight end as unavailable, the model reloads "
        "on the next request",
        opt.load.model_id, pid, cause, orphans.size());
  }
  engine::GenerationResult res;
  if (asked) {
    res.stop_reason = engine::StopReason::Cancelled;
  } else {
    res.stop_reason = engine::StopReason::Error;
    res.error_kind = ErrorKind::Unavailable;
    res.error = "the worker process serving model '" + opt.load.model_id + "' " + cause +
                "; the model reloads on the next request";
  }
  for (auto& [id, p] : orphans) {
    if (p.on_done) p.on_done(res);
  }
}

std::unique_ptr<WorkerClient> WorkerClient::start(WorkerOptions options) {
  auto s = std::make_shared<State>();
  s->opt = std::move(options);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw Error(ErrorKind::Internal, std::string("socketpair failed: ") + std::strerror(errno));
  if (sv[1] == 3) {
    // dup2(3, 3) would keep close-on-exec: move the child's end off fd 3 first.
    const int moved = fcntl(sv[1], F_DUPFD_CLOEXEC, 4);
    ::close(sv[1]);
    sv[1] = moved;
  }
  s->channel = std::make_unique<Channel>(sv[0]);
  {
    std::error_code ec;
    const auto size = std::filesystem::file_size(s->opt.load.path, ec);
    const auto mtime = std::filesystem::last_write_time(s->opt.load.path, ec);
    if (!ec) s->file_at_load.emplace(size, mtime);
  }
  try {
    s->pid = spawn_worker(s->opt, sv[1]);
  } catch (...) {
    ::close(sv[1]);
    throw;
  }
  ::close(sv[1]);
  s->reader = std::thread([s] { s->read_loop(); });
  std::unique_ptr<WorkerClient> client(new WorkerClient(s));  // from here its destructor stops the worker
  s->channel->send(encode(s->opt.load));

  float reported = -1.0f;
  std::unique_lock lock(s->mutex);
  for (;;) {
    s->cv.wait_for(lock, std::chrono::milliseconds(20), [&] { return s->ready || s->load_error || s->dead; });
    if (s->opt.progress && s->progress != reported) {
      reported = s->progress;
      lock.unlock();
      s->opt.progress(reported);
      lock.lock();
    }
    if (s->ready) break;
    if (s->load_error || s->dead || (s->opt.cancel && s->opt.cancel->load())) {
      const bool cancelled = !s->load_error && !s->dead;
      s->stopping = true;
      lock.unlock();
      if (cancelled) kill(s->pid, SIGKILL);
      s->channel->shut();
      s->reader.join();
      client.reset();
      if (s->load_error) throw *s->load_error;
      if (cancelled) throw Error(ErrorKind::Cancelled, s->opt.load.path + ": loading cancelled");
      throw Error(ErrorKind::Unavailable, "the worker loading " + s->opt.load.path + " " + s->cause);
    }
  }
  return client;
}

WorkerClient::~WorkerClient() {
  if (!s_) return;
  const bool on_reader = std::this_thread::get_id() == s_->reader.get_id();
  {
    std::unique_lock lock(s_->mutex);
    s_->stopping = true;
    if (!s_->dead && !s_->inflight.empty() && !on_reader) {
      // As the in-process engine does: cancel, and let each request end with its callbacks.
      lock.unlock();
      s_->channel->send(encode_empty(MsgType::CancelAll));
      lock.lock();
      s_->cv.wait_for(lock, kStopGrace, [this] { return s_->dead || s_->inflight.empty(); });
    }
  }
  s_->channel->shut();  // the worker reads end of file and exits
  if (!s_->reader.joinable()) return;
  if (on_reader) {
    s_->reader.detach();  // a callback dropped the last reference; the loop ends on its own
  } else {
    s_->reader.join();
  }
}

engine::RequestId WorkerClient::submit(engine::GenerateRequest request, engine::TokenCallback on_token,
                                       engine::DoneCallback on_done) {
  validate(request);
  uint64_t id;
  {
    std::lock_guard lock(s_->mutex);
    if (s_->dead)
      throw Error(ErrorKind::Unavailable, "the worker serving model '" + s_->opt.load.model_id + "' " +
                                              s_->cause + "; try again: the model reloads");
    id = s_->next_id++;
    if (s_->inflight.empty()) s_->busy_since_ms = steady_ms();
    s_->inflight.emplace(id, State::Pending{std::move(on_token), std::move(on_done)});
  }
  // A failed send means the worker is dying: its reader ends this request with the cause.
  s_->channel->send(encode_submit(id, request));
  return id;
}

void WorkerClient::validate(const engine::GenerateRequest& request) const {
  engine::validate_request(request, s_->opt.n_vocab, s_->info.shape.n_ctx_seq);
}

void WorkerClient::cancel(engine::RequestId id) {
  {
    std::lock_guard lock(s_->mutex);
    if (s_->dead || !s_->inflight.count(id)) return;
  }
  s_->channel->send(encode_id(MsgType::Cancel, id));
}

void WorkerClient::cancel_all() { s_->channel->send(encode_empty(MsgType::CancelAll)); }

size_t WorkerClient::queued() const {
  std::lock_guard lock(s_->mutex);
  const size_t slots = static_cast<size_t>(std::max(s_->info.shape.n_seq, 1));
  return s_->inflight.size() > slots ? s_->inflight.size() - slots : 0;
}

size_t WorkerClient::running() const {
  std::lock_guard lock(s_->mutex);
  return std::min(s_->inflight.size(), static_cast<size_t>(std::max(s_->info.shape.n_seq, 1)));
}

engine::ContextShape WorkerClient::shape() const { return s_->info.shape; }
const WorkerInfo& WorkerClient::info() const { return s_->info; }
pid_t WorkerClient::pid() const { return s_->pid; }

bool WorkerClient::alive() const {
  std::lock_guard lock(s_->mutex);
  return !s_->dead;
}

int64_t WorkerClient::silent_ms() const {
  std::lock_guard lock(s_->mutex);
  if (s_->dead || s_->inflight.empty()) return 0;
  return steady_ms() - std::max(s_->last_frame_ms.load(), s_->busy_since_ms);
}

void WorkerClient::kill_hung(const std::string& why) {
  {
    std::lock_guard lock(s_->mutex);
    if (s_->dead) return;
    s_->kill_reason = why;
  }
  kill(s_->pid, SIGKILL);
}

std::string WorkerClient::exit_cause() const {
  std::lock_guard lock(s_->mutex);
  return s_->cause;
}

}  // namespace rmm::worker
