#include "server/ws/ws_session.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <thread>

#include "core/log.hpp"
#include "server/access_guard.hpp"
#include "server/api_error.hpp"
#include "serving/generation.hpp"

namespace rmm::server::ws {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

struct WsSession::Generation {
  std::string id;  // the client's; fixed before the engine sees the request
  // Stops the engine's generation or the cache's replay.
  cache::Canceller cancel;
  std::weak_ptr<serving::HostedModel> model;
  bool paused = false;
  bool stopped = false;                 // cancelled by the client or the server
  bool finished = false;                // its complete message has arrived (and may be held)
  std::atomic<bool> overflowed{false};  // cancelled for holding too much while paused
  std::deque<std::string> held;         // replies kept back while paused
  size_t held_bytes = 0;
};

namespace {

std::string peer_of(const beast::tcp_stream& s) {
  beast::error_code ec;
  const auto ep = s.socket().remote_endpoint(ec);
  return ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
}

std::string mib(size_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

}  // namespace

WsSession::WsSession(beast::tcp_stream stream, serving::ModelHost& host, UpgradeContext context,
                     SessionLimits limits)
    : ws_(std::move(stream)),
      host_(host),
      context_(std::move(context)),
      limits_(limits),
      close_timer_(ws_.get_executor()) {
  peer_ = peer_of(ws_.next_layer());
}

WsSession::~WsSession() { cancel_generations(); }

void WsSession::start(Request request) {
  upgrade_ = std::move(request);
  // Pings keep idle connections honest; a peer that stops answering is dropped.
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  // A browser that sends its key as the subprotocol "rmm-key.KEY" offers "rmm" beside it; the answer
  // names "rmm" (never the key), as browsers fail a handshake that answers none of those offered.
  const auto offered = offered_subprotocols(upgrade_);
  const bool offers_rmm = std::find(offered.begin(), offered.end(), kWsProtocol) != offered.end();
  ws_.set_option(websocket::stream_base::decorator([offers_rmm](websocket::response_type& res) {
    res.set(http::field::server, "rmm");
    if (offers_rmm) res.set(http::field::sec_websocket_protocol, kWsProtocol);
  }));
  ws_.read_message_max(limits_.hard_message_bytes);
  ws_.async_accept(upgrade_, [self = shared_from_this()](beast::error_code ec) {
    if (ec) {
      spdlog::info("ws {}: handshake failed: {}", self->peer_, ec.message());
      return;
    }
    spdlog::info("ws {}: connected", self->peer_);
    self->read_next();
  });
}

void WsSession::refuse(Request request, const std::string& why) {
  spdlog::warn("ws {}: refused: {}", peer_, why);
  auto res = std::make_shared<http::response<http::string_body>>(http::status::forbidden, request.version());
  res->set(http::field::content_type, "application/json");
  res->body() = api_error_json(why, "invalid_request_error").dump();
  res->keep_alive(false);
  res->prepare_payload();
  http::async_write(ws_.next_layer(), *res, [self = shared_from_this(), res](beast::error_code, size_t) {
    beast::error_code ec;
    self->ws_.next_layer().socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
    self->ws_.next_layer().close();
  });
}

void WsSession::going_away() {
  net::post(ws_.get_executor(), [self = shared_from_this()] {
    if (!self->ended_) self->close(websocket::close_code::going_away, "the server is shutting down");
  });
}

// ---- reading ----

void WsSession::read_next() {
  if (ended_) return;
  ws_.async_read_some(frame_, 64 * 1024,
                      [self = shared_from_this()](beast::error_code ec, size_t n) { self->on_read(ec, n); });
}

void WsSession::on_read(beast::error_code ec, size_t) {
  if (ec) {
    end(ec == websocket::error::closed ? "closed by the client" : "connection lost: " + ec.message());
    return;
  }
  // Messages come in pieces; one over the limit is read to its end and skipped, so the socket stays usable.
  message_bytes_ += frame_.size();
  if (!skipping_ && message_bytes_ > limits_.max_message_bytes) {
    skipping_ = true;
    std::string().swap(message_);
  }
  if (!skipping_) message_.append(static_cast<const char*>(frame_.data().data()), frame_.size());
  frame_.consume(frame_.size());
  if (ws_.is_message_done()) {
    if (closing_) {
      // Replies would not be sent any more; what the client says now is moot.
    } else if (skipping_) {
      send_error("invalid_request", "the message is " + std::to_string(message_bytes_) +
                                        " bytes; the limit is " + std::to_string(limits_.max_message_bytes) +
                                        " bytes");
    } else if (ws_.got_binary()) {
      send_error("invalid_request", "binary messages are not accepted: send JSON as text messages");
    } else {
      handle(message_);
    }
    message_.clear();
    message_bytes_ = 0;
    skipping_ = false;
  }
  read_next();
}

void WsSession::handle(const std::string& text) {
  try {
    auto cmd = parse_command(text);
    if (auto* load = std::get_if<LoadCommand>(&cmd)) {
      handle_load(std::move(*load));
    } else if (auto* gen = std::get_if<GenerateCommand>(&cmd)) {
      handle_generate(std::move(*gen));
    } else {
      handle_control(std::get<ControlCommand>(cmd));
    }
  } catch (const ProtocolError& e) {
    send_error(e.error_type, e.what(), e.id);
  } catch (const Error& e) {
    send_error(error_type_for(e.kind()), e.what());
  } catch (const std::exception& e) {
    // Whatever went wrong concerns this message only; the connection carries on.
    spdlog::error("ws {}: {}", peer_, e.what());
    send_error("server_error", e.what());
  }
}

void WsSession::handle_load(LoadCommand cmd) {
  // Loads of other models go on side by side, and a load of a model that is
  // already loading joins that load (serving::ModelHost::acquire); the bound only keeps
  // one connection from tying up threads.
  if (loads_in_flight_ >= kMaxLoadsInFlight)
    return send_error("busy",
                      std::to_string(loads_in_flight_) +
                          " loads sent on this connection are still running; wait for one to complete",
                      cmd.id);
  try {
    // A missing model (or one the key may not use) is answered now rather than from the loader thread.
    check_model_access(context_.principal, host_, cmd.model);
  } catch (const Error& e) {
    return send_error(error_type_for(e.kind()), e.what(), cmd.id);
  }
  ++loads_in_flight_;
  // Loading blocks for seconds: it runs on its own thread and reports through the strand.
  auto work = [weak = weak_from_this(), ex = ws_.get_executor(), &host = host_, cmd] {
    auto post = [&](std::string msg, bool last) {
      net::post(ex, [weak, msg = std::move(msg), last]() mutable {
        if (auto self = weak.lock()) {
          if (last) --self->loads_in_flight_;
          self->send(std::move(msg));
        }
      });
    };
    std::string reply;
    try {
      int last_pct = -1;
      serving::UseOptions use;
      use.num_ctx = cmd.num_ctx;
      auto m = host.acquire(cmd.model, use, [&](float p) {
        const int pct = static_cast<int>(p * 100);
        if (pct == last_pct) return;
        last_pct = pct;
        post(load_progress_message(p, cmd.id), false);
      });
      // Already loaded (or loaded by a request this one waited for): progress is complete.
      if (last_pct < 0) post(load_progress_message(1.0f, cmd.id), false);
      spdlog::info("ws: loaded {} ({})", m->id, m->description);
      reply = load_complete_message(*m, cmd.id);
    } catch (const Error& e) {
      reply = error_message(error_type_for(e.kind()), e.what(), cmd.id);
    } catch (const std::exception& e) {
      reply = error_message("server_error", e.what(), cmd.id);
    }
    post(std::move(reply), true);
  };
  try {
    host_.run_in_background(std::move(work));
  } catch (const Error& e) {
    --loads_in_flight_;
    send_error(error_type_for(e.kind()), e.what(), cmd.id);
  }
}

void WsSession::handle_generate(GenerateCommand cmd) {
  const std::string id = cmd.id;
  if (generations_.count(id)) {
    return send_error("invalid_request",
                      "a generation with id '" + id +
                          "' is still running on this connection (ids must differ among running generations)",
                      id);
  }
  auto m = host_.find(cmd.model);
  if (!m) {
    if (!cmd.model.empty() && host_.loading(cmd.model))
      return send_error("no_model", "model '" + cmd.model + "' is still loading", id);
    const auto all = host_.loaded();
    if (!cmd.model.empty() && !all.empty()) {
      std::string ids;
      for (const auto& l : all) ids += (ids.empty() ? "" : ", ") + l->id;
      return send_error("not_found", "model '" + cmd.model + "' is not loaded (loaded: " + ids + ")", id);
    }
    if (host_.loading()) return send_error("no_model", "the model is still loading", id);
    if (all.empty())
      return send_error("no_model", R"(no model is loaded: send {"type":"load","model":...} first)", id);
    return send_error("no_model", host_.no_model_reason(), id);
  }
  try {
    check_model_access(context_.principal, host_, m->path);
  } catch (const Error& e) {
    return send_error(error_type_for(e.kind()), e.what(), id);
  }
  auto& req = cmd.request;
  try {
    if (cmd.chat) {
      const auto prompt = m->chat->format(cmd.messages, true);
      req.prompt = m->model->tokenize_prompt(prompt.text);
      req.stop.insert(req.stop.end(), prompt.additional_stops.begin(), prompt.additional_stops.end());
    } else {
      req.prompt = m->model->tokenize_prompt(cmd.prompt);
    }
    auto g = std::make_shared<Generation>();
    g->id = id;
    g->model = m;
    // Each generation counts against the key's rate limits and goes to the audit log, as a /v1 request does.
    AccessGuard* guard = context_.guard;
    if (guard) {
      if (auto r = guard->admit_generation(context_.principal)) {
        std::string retry;
        for (const auto& [k, v] : r->headers) {
          if (k == "Retry-After") retry = " (retry after " + v + " s)";
        }
        return send_error("rate_limited", r->message + retry, id);
      }
    }
    store::AuditEntry audit;
    audit.time = unix_ms();
    audit.client = context_.client;
    audit.method = "WS";
    audit.route = "/api/ws";
    audit.model = m->id;
    const auto started = std::chrono::steady_clock::now();
    // Ends the stream count and writes the audit entry exactly once, however the generation ends.
    auto finish = [guard, principal = context_.principal, audit, started](int status, int prompt,
                                                                          int completion) mutable {
      if (!guard) return;
      audit.status = status;
      audit.prompt_tokens = prompt;
      audit.completion_tokens = completion;
      audit.duration_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
              .count();
      guard->generation_done(principal, std::move(audit));
      guard = nullptr;
    };
    auto finish_once = std::make_shared<decltype(finish)>(std::move(finish));
    // Callbacks run on the engine thread: serialize there, hand the text to the strand, never wait.
    auto weak = weak_from_this();
    auto ex = ws_.get_executor();
    serving::GenerationCallbacks callbacks;
    callbacks.on_token = [weak, ex, g](const engine::TokenEvent& ev) {
      net::post(ex, [weak, g, msg = token_message(g->id, ev)]() mutable {
        if (auto self = weak.lock()) self->on_token(g, std::move(msg));
      });
    };
    callbacks.on_done = [weak, ex, g, finish_once, peer = peer_,
                         held_limit = limits_.max_held_bytes](const engine::GenerationResult& r) {
      const std::string note = g->overflowed ? "stopped by the server: more than " + mib(held_limit) +
                                                   " of tokens were held while paused"
                                             : "";
      spdlog::info("ws {}: generation '{}' {} after {} tokens ({:.1f} ms)", peer, g->id,
                   finish_reason(r.stop_reason), r.timings.generated_tokens,
                   r.timings.prompt_ms + r.timings.generation_ms);
      const int status = r.stop_reason == engine::StopReason::Cancelled ? 499
                         : r.stop_reason != engine::StopReason::Error   ? 200
                         : r.error_kind == ErrorKind::Unavailable       ? 503
                                                                        : 500;
      (*finish_once)(status, r.timings.prompt_tokens, r.timings.generated_tokens);
      net::post(ex, [weak, g, msg = complete_message(g->id, r, note)]() mutable {
        if (auto self = weak.lock()) self->on_done(g, std::move(msg));
      });
    };
    try {
      g->cancel = serving::generate(host_, m, std::move(req), cache::Policy{cmd.cache, cmd.cache},
                                    std::move(callbacks));
    } catch (const serving::Refused& e) {
      (*finish_once)(e.why() == serving::Refused::Why::QueueFull ? 503 : 400, 0, 0);
      return send_error(e.why() == serving::Refused::Why::QueueFull ? "busy" : "invalid_request", e.what(),
                        id);
    } catch (...) {
      (*finish_once)(400, 0, 0);
      throw;
    }
    generations_[id] = std::move(g);
  } catch (const Error& e) {
    send_error(error_type_for(e.kind()), e.what(), id);
  }
}

void WsSession::handle_control(const ControlCommand& cmd) {
  const auto it = generations_.find(cmd.id);
  if (it == generations_.end())
    return send_error("not_found", "no generation with id '" + cmd.id + "' is running on this connection",
                      cmd.id);
  const auto g = it->second;  // release() may drop the map's reference
  switch (cmd.kind) {
    case ControlCommand::Kind::Stop:
      if (!g->stopped) {
        g->stopped = true;
        cancel_engine(*g);
      }
      // A stopped generation is no longer paused: what it held goes out, then its complete.
      if (g->paused) {
        g->paused = false;
        release(*g);
      }
      break;
    case ControlCommand::Kind::Pause:
      g->paused = true;
      send(paused_message(g->id));
      break;
    case ControlCommand::Kind::Resume:
      send(resumed_message(g->id, g->held.size()));
      if (g->paused) {
        g->paused = false;
        release(*g);
      }
      break;
  }
}

// ---- engine results ----

void WsSession::on_token(const std::shared_ptr<Generation>& g, std::string msg) {
  if (closing_) return;
  const auto it = generations_.find(g->id);
  if (it == generations_.end() || it->second != g) return;
  if (!g->paused) return send(std::move(msg));
  held_bytes_ += msg.size();
  g->held_bytes += msg.size();
  g->held.push_back(std::move(msg));
  if (held_bytes_ > limits_.max_held_bytes && !g->stopped) {
    spdlog::warn("ws {}: generation '{}' held more than {} while paused; stopping it", peer_, g->id,
                 mib(limits_.max_held_bytes));
    g->overflowed = true;
    g->stopped = true;
    cancel_engine(*g);
  }
}

void WsSession::on_done(const std::shared_ptr<Generation>& g, std::string msg) {
  if (closing_) return;
  const auto it = generations_.find(g->id);
  if (it == generations_.end() || it->second != g) return;
  g->finished = true;
  if (g->paused) {
    held_bytes_ += msg.size();
    g->held_bytes += msg.size();
    g->held.push_back(std::move(msg));
    return;
  }
  generations_.erase(it);
  send(std::move(msg));
}

void WsSession::release(Generation& g) {
  auto held = std::move(g.held);
  g.held.clear();
  held_bytes_ -= std::min(held_bytes_, g.held_bytes);
  g.held_bytes = 0;
  if (g.finished) {
    const auto it = generations_.find(g.id);
    if (it != generations_.end() && it->second.get() == &g) generations_.erase(it);
  }
  for (auto& msg : held) send(std::move(msg));
}

// ---- writing ----

void WsSession::send(std::string msg) {
  if (closing_) return;
  queue_bytes_ += msg.size();
  queue_.push_back(std::move(msg));
  if (queue_bytes_ > limits_.max_queue_bytes || queue_.size() > limits_.max_queue_messages) {
    // Holding more would let one slow client eat memory; its generations would run for nobody.
    return close(websocket::close_code::policy_error,
                 "the client reads too slowly: " + std::to_string(queue_.size()) + " messages (" +
                     std::to_string(queue_bytes_) + " bytes) waiting");
  }
  if (!writing_) write_next();
}

void WsSession::send_error(const std::string& error_type, const std::string& message, const std::string& id) {
  send(error_message(error_type, message, id));
}

void WsSession::write_next() {
  if (queue_.empty() || ended_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  ws_.text(true);
  ws_.async_write(net::buffer(queue_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
    self->writing_ = false;
    self->queue_bytes_ -= self->queue_.front().size();
    self->queue_.pop_front();
    if (ec) return self->end("write failed: " + ec.message());
    self->write_next();
  });
}

// ---- ending ----

void WsSession::cancel_engine(const Generation& g) const {
  if (g.cancel) g.cancel();
}

void WsSession::cancel_generations() {
  for (const auto& [id, g] : generations_) {
    if (!g->stopped) {
      g->stopped = true;
      cancel_engine(*g);
    }
  }
  generations_.clear();
  held_bytes_ = 0;
}

namespace {

// Drops the replies not yet started; the one being written must stay until its write completes.
void drop_unsent(std::deque<std::string>& queue, size_t& bytes, bool writing) {
  while (queue.size() > (writing ? 1u : 0u)) {
    bytes -= queue.back().size();
    queue.pop_back();
  }
}

}  // namespace

void WsSession::close(websocket::close_code code, const std::string& reason) {
  if (closing_) return;
  closing_ = true;
  spdlog::warn("ws {}: closing with code {}: {}", peer_, static_cast<int>(code), reason);
  cancel_generations();
  drop_unsent(queue_, queue_bytes_, writing_);
  // The close frame waits for the write in flight; a client that reads nothing never lets it go.
  websocket::close_reason why(code, reason.substr(0, 120));
  ws_.async_close(why, [self = shared_from_this()](beast::error_code ec) {
    self->end(ec ? "close handshake failed: " + ec.message() : "closed by the server");
  });
  close_timer_.expires_after(std::chrono::seconds(5));
  close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->end("the client did not finish the close handshake");
  });
}

void WsSession::end(const std::string& why) {
  if (ended_) return;
  ended_ = closing_ = true;
  const size_t running = generations_.size();
  cancel_generations();
  drop_unsent(queue_, queue_bytes_, writing_);
  close_timer_.cancel();
  spdlog::info("ws {}: {}{}", peer_, why,
               running ? " (" + std::to_string(running) + " generations cancelled)" : std::string());
  beast::error_code ec;
  ws_.next_layer().socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  ws_.next_layer().close();
}

}  // namespace rmm::server::ws
