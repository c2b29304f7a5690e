#include "worker/worker_process.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/log.hpp"
#include "engine/engine_thread.hpp"
#include "engine/model.hpp"
#include "worker/channel.hpp"
#include "worker/wire.hpp"

namespace rmm::worker {

namespace {

// Frames from the engine thread wait here until the step that made them
// ends; flush() then sends them in one write without blocking the engine.
// What the socket cannot take at once (the server is slow to read) goes out
// on the writer thread, in order, so the engine never waits on the socket.
class Outbox {
 public:
  explicit Outbox(Channel& channel) : channel_(channel), thread_([this] { loop(); }) {}
  ~Outbox() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  // Queues a frame; it leaves at the next flush().
  void put(const std::string& frame) {
    std::lock_guard lock(mutex_);
    pending_ += frame;
  }
  // Queues and sends at once (messages outside the engine's steps).
  void send(const std::string& frame) {
    put(frame);
    flush();
  }
  // After each engine step: the step's frames, or a sign of life when
  // nothing went out for a second (a long prompt decodes in silent steps,
  // and the server takes a worker that says nothing for too long as hung).
  void after_step() {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mutex_);
      if (pending_.empty() && now - last_sent_ >= std::chrono::seconds(1))
        pending_ = encode_empty(MsgType::Alive);
      if (!pending_.empty()) last_sent_ = now;
    }
    flush();
  }
  void flush() {
    std::string out;
    {
      std::lock_guard lock(mutex_);
      if (pending_.empty() || sending_) return;  // the writer thread has it
      out.swap(pending_);
      sending_ = true;
    }
    const size_t sent = channel_.send_some(out);
    if (sent == Channel::kGone) std::_Exit(0);  // the server is gone: nothing is left to serve
    {
      std::lock_guard lock(mutex_);
      sending_ = false;
      if (sent == out.size()) return;
      pending_.insert(0, out, sent, std::string::npos);  // before anything queued meanwhile
      writer_turn_ = true;
    }
    cv_.notify_one();
  }

 private:
  void loop() {
    std::string out;
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || writer_turn_; });
      if (!writer_turn_) return;  // stopping, nothing left over
      out.swap(pending_);
      sending_ = true;
      writer_turn_ = false;
      lock.unlock();
      if (!channel_.send(out)) std::_Exit(0);
      out.clear();
      lock.lock();
      sending_ = false;
      if (!pending_.empty()) writer_turn_ = true;  // queued while it wrote
    }
  }
  Channel& channel_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string pending_;
  bool sending_ = false;      // one sender at a time keeps frames whole and in order
  bool writer_turn_ = false;  // what is pending waits for the writer thread
  bool stop_ = false;
  std::chrono::steady_clock::time_point last_sent_ = std::chrono::steady_clock::now();
  std::thread thread_;
};

// Reads whole frames from the server; false at end of file (the server
// closed the channel or died).
class Inbox {
 public:
  explicit Inbox(Channel& channel) : channel_(channel) {}
  bool next(MsgType& type, std::string& payload) {
    while (!frames_.next(type, payload)) {
      const size_t n = channel_.receive(buf_, sizeof buf_);
      if (n == 0) return false;
      frames_.feed(buf_, n);
    }
    return true;
  }

 private:
  Channel& channel_;
  FrameReader frames_;
  char buf_[65536];
};

std::unique_ptr<engine::EngineThread> load(const LoadRequest& req, Outbox& out, WorkerInfo& info) {
  engine::LoadParams lp;
  lp.path = req.path;
  lp.gpu_layers = req.gpu_layers;
  lp.gpu_device = req.gpu_device;
  lp.mmap = req.mmap;
  int last = -1;
  lp.progress = [&out, &last](float p) {
    const int pct = static_cast<int>(p * 100);
    if (pct != last) out.send(encode_progress(p));
    last = pct;
    return true;
  };
  auto model = engine::Model::load(lp);
  auto engine = std::make_unique<engine::EngineThread>(
      std::make_unique<engine::BatchEngine>(model, req.context), [&out] { out.after_step(); });
  info.shape = engine->shape();
  info.description = model->description();
  return engine;
}

}  // namespace

int run_worker(int fd) {
  // The worker lives only as long as the server's end of the socket: when
  // the server exits or dies, the reads below see end of file. (Not
  // PR_SET_PDEATHSIG: it fires when the spawning *thread* ends, and loads
  // run on threads that end.)
  signal(SIGPIPE, SIG_IGN);
  Channel channel(fd);
  Outbox out(channel);
  Inbox in(channel);

  MsgType type;
  std::string payload;
  if (!in.next(type, payload)) return 0;
  if (type != MsgType::Init) {
    spdlog::error("worker: the first message is not a load request");
    return 1;
  }
  std::unique_ptr<engine::EngineThread> engine;
  try {
    Reader r(payload);
    const LoadRequest req = decode_load(r);
    r.end();
    spdlog::default_logger()->set_pattern("%^%l%$: [worker " + req.model_id + "] %v");
    WorkerInfo info;
    engine = load(req, out, info);
    spdlog::info("serving {} ({}), {} slots x {} tokens", req.path, info.description, info.shape.n_seq,
                 info.shape.n_ctx_seq);
    out.send(encode(info));
  } catch (const Error& e) {
    out.send(encode_error(MsgType::LoadFailed, e.kind(), e.what()));
    return 1;
  } catch (const std::exception& e) {
    out.send(encode_error(MsgType::LoadFailed, ErrorKind::Internal, e.what()));
    return 1;
  }

  // Server ids → the engine's, for cancels; on_done drops them (engine thread).
  std::mutex ids_mutex;
  std::unordered_map<uint64_t, engine::RequestId> ids;
  while (in.next(type, payload)) {
    try {
      Reader r(payload);
      switch (type) {
        case MsgType::Submit: {
          const uint64_t id = r.u64();
          auto req = decode_request(r);
          r.end();
          std::lock_guard lock(ids_mutex);  // held so that on_done cannot run before the id is known
          try {
            ids[id] = engine->submit(
                std::move(req), [&out, id](const engine::TokenEvent& ev) { out.put(encode_token(id, ev)); },
                [&out, &ids, &ids_mutex, id](const engine::GenerationResult& res) {
                  {
                    std::lock_guard lock(ids_mutex);
                    ids.erase(id);
                  }
                  out.put(encode_done(id, res));
                });
          } catch (const Error& e) {
            // The server checks requests before sending them; a refusal here still ends the request.
            engine::GenerationResult res;
            res.stop_reason = engine::StopReason::Error;
            res.error = e.what();
            res.error_kind = e.kind();
            out.send(encode_done(id, res));
          }
          break;
        }
        case MsgType::Cancel: {
          const uint64_t id = r.u64();
          r.end();
          std::lock_guard lock(ids_mutex);
          if (auto it = ids.find(id); it != ids.end()) engine->cancel(it->second);
          break;
        }
        case MsgType::CancelAll: engine->cancel_all(); break;
        default: spdlog::warn("worker: ignoring a message of type {}", static_cast<int>(type)); break;
      }
    } catch (const Error& e) {
      // A frame this worker cannot read means the two ends disagree: stop
      // rather than guess (the server sees the exit and fails the requests).
      spdlog::error("worker: {}", e.what());
      return 1;
    }
  }
  // The server closed the channel (unload or shutdown): the OS frees
  // everything at once, which is faster than tearing the context down.
  std::_Exit(0);
}

}  // namespace rmm::worker
