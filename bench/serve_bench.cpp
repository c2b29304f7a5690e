// Serving benchmark: starts `rmm serve` and llama.cpp's `llama-server` one
// after the other with the same model and settings, drives each with N
// concurrent streaming chat clients (OpenAI API, SSE) and compares time to
// first token, aggregate and per-stream generation speed, and the time to
// first token of a second chat turn (prefix reuse). The load generator is
// one thread of asynchronous I/O (Boost.Beast, C++20 coroutines), so it costs
// little CPU next to the servers; its own CPU use is printed per phase.
// Processes, ports, health checks and SSE splitting come from tests/support.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/subprocess.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using rmm::test::ServerProcess;

struct Options {
  std::string model;
  std::vector<int> clients = {1, 4, 16, 64};
  int requests_per_client = 2;
  int prompt_tokens = 300;  // mean; each prompt is between 2/3 and 4/3 of it
  int max_tokens = 128;
  int threads = 0;
  int gpu_layers = -1;
  int ctx_per_slot = 0;  // 0: enough for the longest prompt and answer
  bool kv_unified = false;
  std::string flash_attn = "auto";
  std::string chat_template;
  std::string rmm = RMM_BIN_DEFAULT;
  std::string llama_server = LLAMA_SERVER_DEFAULT;
  std::string peer_dir = RMM_PEER_BIN_DIR_DEFAULT;
  std::string only;
  // The other side: llama-server, or rmm serve itself with --in-process (the
  // cost of running each model in a worker process), or "open": rmm serve
  // without API keys, rate limits and audit log, while ours requires a key,
  // checks generous limits and writes the audit log (the cost of access control).
  std::string peer = "llama-server";
  std::string api_key;  // sent by every request to our side when peer is "open"
  bool batched_bench = false;
  int history_tokens = 1000;
  int turn_reps = 3;
  int turn_answer = 64;
  uint64_t seed = 1;
  int rounds = 1;
  int start_timeout = 600;
  int request_timeout = 900;
  std::string log_dir;
  std::string json_out;
  std::vector<std::string> rmm_args, llama_args;
};

double now_s() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

// ---------------------------------------------------------------- prompts

// Deterministic varied English: seeded word choice, sentences of varying
// length, some numbers and punctuation. The same seed gives the same text on
// every run and for both servers.
const char* const kWords[] = {
    "the",     "river",    "morning",  "engine",   "window",   "garden",  "quickly",  "across",    "under",
    "between", "before",   "after",    "because",  "although", "while",   "simple",   "careful",   "bright",
    "heavy",   "quiet",    "ancient",  "modern",   "village",  "market",  "teacher",  "student",   "doctor",
    "farmer",  "captain",  "library",  "kitchen",  "mountain", "station", "bridge",   "forest",    "ocean",
    "letter",  "number",   "question", "answer",   "problem",  "result",  "method",   "system",    "value",
    "history", "science",  "music",    "language", "picture",  "story",   "journey",  "weather",   "winter",
    "summer",  "autumn",   "spring",   "yellow",   "green",    "silver",  "wooden",   "broken",    "hidden",
    "open",    "closed",   "early",    "late",     "young",    "old",     "strong",   "gentle",    "sharp",
    "walks",   "reads",    "builds",   "writes",   "finds",    "carries", "explains", "remembers", "watches",
    "follows", "measures", "repairs",  "opens",    "changes",  "returns", "counts",   "listens",   "travels",
    "and",     "but",      "or",       "so",       "then",     "with",    "without",  "through",   "over",
    "near",    "far",      "every",    "some",     "many",     "few",     "each",     "another",   "other",
    "small",   "large",    "long",     "short",    "warm",     "cold",    "clear",    "dark",      "light",
    "paper",   "stone",    "glass",    "water",    "fire",     "road",    "city",     "island",    "valley",
    "machine", "signal",   "pattern",  "circle",   "corner",   "center",  "edge",     "surface",   "layer",
    "we",      "they",     "she",      "he",       "it",       "you",     "someone",  "nobody",    "everyone",
    "was",     "is",       "will",     "could",    "should",   "might",   "must",     "has",       "had",
    "slowly",  "finally",  "perhaps",  "almost",   "always",   "never",   "often",    "seldom",    "together",
    "meadow",  "lesson",   "harbor",   "tower",    "lantern",  "ribbon",  "compass",  "blanket",   "orchard"};
constexpr size_t kNumWords = sizeof(kWords) / sizeof(kWords[0]);

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
  uint64_t next() {  // splitmix64: the same numbers with every standard library
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int uniform(int lo, int hi) { return lo + static_cast<int>(next() % static_cast<uint64_t>(hi - lo + 1)); }
};

std::string text_of_words(uint64_t seed, int n_words) {
  Rng rng(seed);
  std::string out;
  int left_in_sentence = 0;
  for (int i = 0; i < n_words; ++i) {
    std::string w =
        rng.uniform(0, 24) == 0 ? std::to_string(rng.uniform(2, 1999)) : kWords[rng.next() % kNumWords];
    const bool starts = left_in_sentence == 0;
    if (starts) {
      left_in_sentence = rng.uniform(6, 16);
      w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
    }
    if (!out.empty()) out += ' ';
    out += w;
    if (--left_in_sentence == 0 || i + 1 == n_words) {
      out += rng.uniform(0, 5) == 0 ? '?' : '.';
      left_in_sentence = 0;
    } else if (rng.uniform(0, 9) == 0) {
      out += ',';
    }
  }
  return out;
}

// Words per token of the served model and the chat template's fixed cost,
// measured on the first server; used to size prompts in tokens.
struct Calibration {
  double tokens_per_word = 1.3;
  double overhead = 10;
  // Words for a whole one-message prompt of `tokens` tokens.
  int words_for(int tokens) const { return words_in(static_cast<int>(tokens - overhead)); }
  // Words for `tokens` tokens of message text.
  int words_in(int tokens) const {
    return std::max(1, static_cast<int>(std::lround(tokens / tokens_per_word)));
  }
};

json user_message(const std::string& text) { return {{"role", "user"}, {"content", text}}; }

std::string chat_body(const json& messages, int max_tokens) {
  // temperature 0: both servers do the same (greedy) work. ignore_eos is
  // llama-server's; rmm serve ignores unknown fields (counts are checked from usage).
  return json{{"messages", messages},
              {"max_tokens", max_tokens},
              {"temperature", 0},
              {"seed", 1},
              {"ignore_eos", true},
              {"stream", true},
              {"stream_options", {{"include_usage", true}}}}
      .dump();
}

// ---------------------------------------------------------------- one streamed request

struct Result {
  bool ok = false;
  std::string error;
  double t_start = 0, t_first = -1, t_last = -1, t_end = 0;
  int completion = -1, prompt = -1, cached = -1;
  std::string finish, text;
  std::vector<double> t_tokens;  // arrival of every chunk with content
  double ttft_ms() const { return (t_first - t_start) * 1e3; }
};

// Reads the OpenAI chunks of the SSE byte stream; every event is timed by the
// arrival of the bytes that completed it.
class SseReader {
 public:
  explicit SseReader(Result& r) : r_(r) {}
  bool done() const { return done_; }
  void feed(const char* data, size_t n, double t) {
    events_.feed({data, n});
    while (const auto ev = events_.next()) event(*ev, t);
  }

 private:
  void event(const std::string& ev, double t) {
    std::istringstream lines(ev);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("data:", 0) != 0) continue;
      std::string payload = line.substr(5);
      if (!payload.empty() && payload[0] == ' ') payload.erase(0, 1);
      if (payload == "[DONE]") {
        done_ = true;
        continue;
      }
      const json j = json::parse(payload, nullptr, false);
      if (j.is_discarded()) {
        r_.error = "unparsable SSE data: " + payload.substr(0, 200);
        continue;
      }
      if (j.contains("error")) r_.error = j["error"].dump().substr(0, 300);
      if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
        const json& c = j["choices"][0];
        const json* content = nullptr;
        if (c.contains("delta") && c["delta"].is_object() && c["delta"].contains("content"))
          content = &c["delta"]["content"];
        if (content && content->is_string() && !content->get_ref<const std::string&>().empty()) {
          if (r_.t_first < 0) r_.t_first = t;
          r_.t_last = t;
          r_.t_tokens.push_back(t);
          r_.text += content->get_ref<const std::string&>();
        }
        if (c.contains("finish_reason") && c["finish_reason"].is_string()) r_.finish = c["finish_reason"];
      }
      if (j.contains("usage") && j["usage"].is_object()) {
        const json& u = j["usage"];
        r_.completion = u.value("completion_tokens", -1);
        r_.prompt = u.value("prompt_tokens", -1);
        if (u.contains("prompt_tokens_details") && u["prompt_tokens_details"].is_object())
          r_.cached = u["prompt_tokens_details"].value("cached_tokens", -1);
      }
    }
  }

  Result& r_;
  rmm::test::SseSplitter events_;
  bool done_ = false;
};

struct Target {
  std::string name;
  tcp::endpoint endpoint;
  std::string host_header;
  std::string api_key;  // sent as a bearer token when set
};

// One connection per request: llama-server closes the connection after a
// streamed answer although it announces keep-alive, so reusing connections
// would measure reconnects on one side only. A loopback connect costs well
// under a millisecond; it is part of the time to first token on both sides.
net::awaitable<void> one_request(const Target& target, const std::string& body, std::chrono::seconds timeout,
                                 Result& r) {
  beast::tcp_stream stream(co_await net::this_coro::executor);
  beast::flat_buffer buf;
  r.t_start = now_s();
  stream.expires_after(timeout);
  co_await stream.async_connect(target.endpoint, net::use_awaitable);
  stream.socket().set_option(tcp::no_delay(true));
  http::request<http::string_body> req{http::verb::post, "/v1/chat/completions", 11};
  req.set(http::field::host, target.host_header);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "text/event-stream");
  if (!target.api_key.empty()) req.set(http::field::authorization, "Bearer " + target.api_key);
  req.keep_alive(false);
  req.body() = body;
  req.prepare_payload();
  stream.expires_after(timeout);
  co_await http::async_write(stream, req, net::use_awaitable);

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  co_await http::async_read_header(stream, buf, parser, net::use_awaitable);
  const int status = parser.get().result_int();
  SseReader sse(r);
  std::string error_body;
  char data[16384];
  while (!parser.is_done()) {
    parser.get().body().data = data;
    parser.get().body().size = sizeof data;
    beast::error_code ec;
    co_await http::async_read_some(stream, buf, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) throw beast::system_error(ec);
    const size_t n = sizeof data - parser.get().body().size;
    if (status == 200) {
      sse.feed(data, n, now_s());
    } else if (error_body.size() < 400) {
      error_body.append(data, n);
    }
  }
  r.t_end = now_s();
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (status != 200) {
    r.error = "HTTP " + std::to_string(status) + ": " + error_body.substr(0, 300);
  } else if (r.error.empty() && !sse.done()) {
    r.error = "the stream ended without [DONE]";
  } else if (r.error.empty() && (r.completion < 0 || r.t_first < 0)) {
    r.error = "no usage or no content in the stream";
  }
  r.ok = r.error.empty();
}

// One client: its requests back to back.
net::awaitable<void> client(const Target& target, const std::vector<std::string>& bodies,
                            std::chrono::seconds timeout, std::vector<Result>& out) {
  for (const auto& body : bodies) {
    Result r;
    try {
      co_await one_request(target, body, timeout, r);
    } catch (const beast::system_error& e) {
      r.error = e.code().message();
      r.ok = false;
    } catch (const std::exception& e) {
      r.error = e.what();
      r.ok = false;
    }
    out.push_back(std::move(r));
  }
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

struct Phase {
  std::vector<Result> results;
  double wall_s = 0;
  double client_cpu_s = 0;
  // Tokens/s over the window in which every client's first request is streaming:
  // from the last first token to the first last token. No prompt is processed
  // then, so this is the server's decode rate at N streams, the figure to hold
  // against llama-batched-bench's S_TG.
  double steady_tps = NAN, steady_window_s = 0;
};

void measure_steady(const std::vector<std::vector<Result>>& per_client, Phase& p) {
  double from = -1, to = 1e300;
  for (const auto& v : per_client) {
    if (v.empty() || !v[0].ok || v[0].t_tokens.size() < 2) return;
    from = std::max(from, v[0].t_first);
    to = std::min(to, v[0].t_last);
  }
  if (!(to > from)) return;
  long n = 0;
  for (const auto& v : per_client)
    for (const auto& r : v)
      for (double t : r.t_tokens) n += (t > from && t <= to) ? 1 : 0;
  p.steady_window_s = to - from;
  p.steady_tps = static_cast<double>(n) / (to - from);
}

// Runs every client's list of requests concurrently on one I/O thread.
Phase run_phase(const Target& target, const std::vector<std::vector<std::string>>& per_client,
                int timeout_s) {
  net::io_context io(1);
  std::vector<std::vector<Result>> results(per_client.size());
  const double cpu0 = cpu_seconds();
  const double t0 = now_s();
  for (size_t i = 0; i < per_client.size(); ++i)
    net::co_spawn(io, client(target, per_client[i], std::chrono::seconds(timeout_s), results[i]),
                  net::detached);
  io.run();
  Phase p;
  p.wall_s = now_s() - t0;
  p.client_cpu_s = cpu_seconds() - cpu0;
  measure_steady(results, p);
  for (auto& v : results)
    for (auto& r : v) p.results.push_back(std::move(r));
  return p;
}

Result run_one(const Target& target, const std::string& body, int timeout_s) {
  return run_phase(target, {{body}}, timeout_s).results.at(0);
}

// ---------------------------------------------------------------- server processes

std::string str(int v) { return std::to_string(v); }

std::string tail(const ServerProcess& s) {
  const std::string out = s.output();
  return out.size() > 3000 ? out.substr(out.size() - 3000) : out;
}

// Throws with the end of its output when the process has exited.
void check_alive(ServerProcess& s, const std::string& name, const fs::path& log) {
  if (s.running()) return;
  const auto st = s.wait(std::chrono::milliseconds(0));
  s.wait_output_end(std::chrono::seconds(1));
  throw std::runtime_error(name + " exited (" +
                           (st->exited ? "exit code " + str(st->code) : "signal " + str(st->signal)) +
                           "); log " + log.string() + ":\n" + tail(s));
}

int http_get_status(int port, const std::string& path) {
  try {
    return rmm::test::http_request(port, "GET", path, "", {}, std::chrono::seconds(5)).status;
  } catch (const std::exception&) {
    return 0;
  }
}

// ---------------------------------------------------------------- statistics

double percentile(std::vector<double> v, double p) {  // nearest rank
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

struct PhaseStats {
  int clients = 0, requests = 0, errors = 0, short_answers = 0;
  long prompt_tokens = 0, completion_tokens = 0;
  double ttft_p50 = NAN, ttft_p99 = NAN, aggregate_tps = NAN, stream_tps = NAN, wall_s = 0, client_cpu = 0;
  double steady_tps = NAN, steady_window_s = 0;
  std::string first_error;
};

PhaseStats stats_of(const Phase& p, int clients, int max_tokens) {
  PhaseStats s;
  s.clients = clients;
  s.wall_s = p.wall_s;
  s.steady_tps = p.steady_tps;
  s.steady_window_s = p.steady_window_s;
  s.client_cpu = p.wall_s > 0 ? p.client_cpu_s / p.wall_s : 0;
  std::vector<double> ttft, per_stream;
  for (const auto& r : p.results) {
    ++s.requests;
    if (!r.ok) {
      ++s.errors;
      if (s.first_error.empty()) s.first_error = r.error;
      continue;
    }
    s.prompt_tokens += r.prompt;
    s.completion_tokens += r.completion;
    if (r.completion < max_tokens) ++s.short_answers;
    ttft.push_back(r.ttft_ms());
    if (r.completion > 1 && r.t_last > r.t_first)
      per_stream.push_back((r.completion - 1) / (r.t_last - r.t_first));
  }
  s.ttft_p50 = percentile(ttft, 0.50);
  s.ttft_p99 = percentile(ttft, 0.99);
  s.stream_tps = percentile(per_stream, 0.50);
  s.aggregate_tps = p.wall_s > 0 ? static_cast<double>(s.completion_tokens) / p.wall_s : NAN;
  return s;
}

struct TurnStats {
  double first_ms = NAN, second_ms = NAN;  // medians over conversations
  int first_prompt = 0, second_prompt = 0, second_cached = -1;
  std::string error;
};

struct SideResult {
  std::string name;
  bool ran = false;
  double start_s = 0, first_request_ms = 0;
  std::vector<PhaseStats> phases;
  TurnStats turn;
};

// ---------------------------------------------------------------- the run

struct Plan {
  Calibration cal;
  bool calibrated = false;
};

std::vector<std::vector<std::string>> phase_bodies(const Options& o, const Calibration& cal, int clients) {
  std::vector<std::vector<std::string>> out(static_cast<size_t>(clients));
  for (int c = 0; c < clients; ++c) {
    for (int r = 0; r < o.requests_per_client; ++r) {
      // Distinct text for every (phase, client, request): no prompt is a cached prefix of another.
      const uint64_t seed = o.seed * 1000003ull + static_cast<uint64_t>(clients) * 10007ull +
                            static_cast<uint64_t>(c) * 101ull + static_cast<uint64_t>(r);
      Rng rng(seed);
      const int target = rng.uniform(o.prompt_tokens * 2 / 3, o.prompt_tokens * 4 / 3);
      const json msgs = json::array({user_message(text_of_words(seed, cal.words_for(target)))});
      out[static_cast<size_t>(c)].push_back(chat_body(msgs, o.max_tokens));
    }
  }
  return out;
}

// A conversation of about `history_tokens` prompt tokens: a system message,
// user and assistant messages of ~120 tokens, and a last user message.
json history(const Options& o, const Calibration& cal, int conv) {
  const uint64_t base = o.seed * 7919 + static_cast<uint64_t>(conv) * 31;
  // The template's tokens around one message: about half of its fixed cost (one
  // message and the generation prompt), measured by the calibration.
  const int per_message = 120, wrap = std::max(4, static_cast<int>(cal.overhead / 2));
  json msgs = json::array();
  msgs.push_back({{"role", "system"}, {"content", text_of_words(base + 1, cal.words_in(60))}});
  int used = static_cast<int>(cal.overhead) + 60;
  for (int turn = 0; used + 2 * (per_message + wrap) <= o.history_tokens; ++turn) {
    const std::string text = text_of_words(base + 2 + static_cast<uint64_t>(turn), cal.words_in(per_message));
    msgs.push_back({{"role", turn % 2 == 0 ? "user" : "assistant"}, {"content", text}});
    used += per_message + wrap;
  }
  if (msgs.back()["role"] == "user") msgs.erase(msgs.size() - 1);
  msgs.push_back(
      user_message(text_of_words(base + 999, cal.words_in(std::max(20, o.history_tokens - used - wrap)))));
  return msgs;
}

TurnStats second_turn(const Options& o, const Calibration& cal, const Target& t) {
  TurnStats s;
  std::vector<double> first, second;
  for (int conv = 0; conv < o.turn_reps; ++conv) {
    json msgs = history(o, cal, conv);
    const Result a = run_one(t, chat_body(msgs, o.turn_answer), o.request_timeout);
    if (!a.ok) {
      s.error = "first turn: " + a.error;
      return s;
    }
    msgs.push_back({{"role", "assistant"}, {"content", a.text}});
    msgs.push_back(user_message(text_of_words(o.seed * 7919 + conv * 31 + 5000, cal.words_in(40))));
    const Result b = run_one(t, chat_body(msgs, o.turn_answer), o.request_timeout);
    if (!b.ok) {
      s.error = "second turn: " + b.error;
      return s;
    }
    first.push_back(a.ttft_ms());
    second.push_back(b.ttft_ms());
    s.first_prompt = a.prompt;
    s.second_prompt = b.prompt;
    s.second_cached = b.cached;
    std::printf(
        "  second turn %d: %d prompt tokens, TTFT %.1f ms; then %d prompt tokens (%d cached), TTFT %.1f ms\n",
        conv + 1, a.prompt, a.ttft_ms(), b.prompt, b.cached, b.ttft_ms());
  }
  s.first_ms = percentile(first, 0.5);
  s.second_ms = percentile(second, 0.5);
  return s;
}

int max_clients(const Options& o) { return *std::max_element(o.clients.begin(), o.clients.end()); }

int ctx_per_slot(const Options& o) {
  if (o.ctx_per_slot > 0) return o.ctx_per_slot;
  // The longest prompt (4/3 of the mean, plus template and calibration slack) and the answer, or the
  // second-turn conversation, rounded up to 256.
  const int need =
      std::max(o.prompt_tokens * 4 / 3 + 64 + o.max_tokens, o.history_tokens + 2 * o.turn_answer + 400);
  return (need + 255) / 256 * 256;
}

bool peer_is_rmm(const Options& o) { return o.peer == "in-process" || o.peer == "open"; }
std::string peer_name(const Options& o) {
  return o.peer == "in-process" ? "rmm in-process" : o.peer == "open" ? "rmm open" : "llama-server";
}

std::vector<std::string> server_argv(const Options& o, bool rmm, int port) {
  const int n = max_clients(o);
  const int ctx = ctx_per_slot(o) * n;
  std::vector<std::string> a;
  if (rmm || peer_is_rmm(o)) {
    a = {o.rmm,          "serve",        "--model",      o.model,
         "--host",       "127.0.0.1",    "--port",       "0",
         "--parallel",   str(n),         "--ctx-size",   str(ctx),
         "--threads",    str(o.threads), "--gpu-layers", str(o.gpu_layers),
         "--flash-attn", o.flash_attn,   "--queue",      str(std::max(64, n * o.requests_per_client))};
    if (o.kv_unified) a.push_back("--kv-unified");
    if (!o.chat_template.empty()) a.insert(a.end(), {"--chat-template", o.chat_template});
    a.insert(a.end(), o.rmm_args.begin(), o.rmm_args.end());
    if (!rmm && o.peer == "in-process") a.push_back("--in-process");
    if (o.peer == "open") {
      // Each side its own database; ours holds the key. Limits far above the load, so that
      // every check runs and none refuses.
      if (rmm) {
        a.insert(a.end(),
                 {"--database", (fs::path(o.log_dir) / "rmm-keys.db").string(), "--requests-per-minute",
                  "100000000", "--tokens-per-minute", "100000000000", "--max-streams", "100000"});
      } else {
        a.insert(a.end(), {"--database", (fs::path(o.log_dir) / "rmm-open.db").string(), "--no-audit"});
      }
    }
  } else {
    a = {o.llama_server, "--model",      o.model,
         "--host",       "127.0.0.1",    "--port",
         str(port),      "--parallel",   str(n),
         "--ctx-size",   str(ctx),       "--threads",
         str(o.threads), "--gpu-layers", str(o.gpu_layers),
         "--flash-attn", o.flash_attn,   o.kv_unified ? "--kv-unified" : "--no-kv-unified"};
    if (!o.chat_template.empty()) a.insert(a.end(), {"--chat-template", o.chat_template});
    a.insert(a.end(), o.llama_args.begin(), o.llama_args.end());
  }
  return a;
}

// Waits for `rmm serve: listening on http://HOST:PORT`; the port.
int wait_rmm(ServerProcess& s, const fs::path& log, int timeout_s) {
  if (s.wait_listening(std::chrono::seconds(timeout_s))) return s.port();
  check_alive(s, "rmm serve", log);
  throw std::runtime_error("rmm serve did not print its listening line in " + str(timeout_s) + " s; log " +
                           log.string());
}

void wait_health(ServerProcess& s, const fs::path& log, int port, int timeout_s) {
  const double deadline = now_s() + timeout_s;
  while (now_s() < deadline) {
    check_alive(s, "llama-server", log);
    if (http_get_status(port, "/health") == 200) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("llama-server /health did not return 200 in " + str(timeout_s) + " s; log " +
                           log.string());
}

// Measures tokens per word and the template's overhead from two requests (also the warm-up).
Calibration calibrate(const Options& o, const Target& t, double& first_request_ms) {
  const int long_words = 300, short_words = 20;
  const Result a =
      run_one(t, chat_body(json::array({user_message(text_of_words(o.seed + 77, long_words))}), 4),
              o.request_timeout);
  if (!a.ok) throw std::runtime_error(t.name + ": warm-up request failed: " + a.error);
  first_request_ms = a.ttft_ms();
  const Result b =
      run_one(t, chat_body(json::array({user_message(text_of_words(o.seed + 78, short_words))}), 4),
              o.request_timeout);
  if (!b.ok) throw std::runtime_error(t.name + ": warm-up request failed: " + b.error);
  Calibration c;
  c.tokens_per_word = std::max(0.2, static_cast<double>(a.prompt - b.prompt) / (long_words - short_words));
  c.overhead = std::max(0.0, b.prompt - c.tokens_per_word * short_words);
  return c;
}

SideResult run_side(const Options& o, bool rmm, Plan& plan, const fs::path& log_dir, int round) {
  SideResult side;
  side.name = rmm ? "rmm" : peer_name(o);
  side.ran = true;
  const bool rmm_like = rmm || peer_is_rmm(o);  // started alike, port from the listening line
  const int chosen = rmm_like ? 0 : rmm::test::unused_port();
  const auto argv = server_argv(o, rmm, chosen);
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  std::printf("\n== round %d, %s: %s\n", round + 1, side.name.c_str(), cmd.c_str());
  std::fflush(stdout);
  const double t0 = now_s();
  std::string file = side.name;
  std::replace(file.begin(), file.end(), ' ', '-');
  const fs::path log = log_dir / (file + "-" + str(round + 1) + ".log");
  ServerProcess server({argv, log});
  const int port = rmm_like ? wait_rmm(server, log, o.start_timeout) : chosen;
  if (!rmm_like) wait_health(server, log, port, o.start_timeout);
  side.start_s = now_s() - t0;
  const Target t{side.name,
                 tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
                 "127.0.0.1:" + str(port), rmm && o.peer == "open" ? o.api_key : std::string()};

  Calibration cal = calibrate(o, t, side.first_request_ms);
  if (!plan.calibrated) {
    plan.cal = cal;
    plan.calibrated = true;
  }
  std::printf("ready in %.1f s; first request TTFT %.1f ms; %.3f tokens/word, template %.0f tokens\n",
              side.start_s, side.first_request_ms, cal.tokens_per_word, cal.overhead);
  std::fflush(stdout);

  for (int n : o.clients) {
    const Phase p = run_phase(t, phase_bodies(o, plan.cal, n), o.request_timeout);
    check_alive(server, side.name, log);
    const PhaseStats s = stats_of(p, n, o.max_tokens);
    std::printf(
        "  %3d clients: %d requests in %.1f s, %ld prompt + %ld completion tokens, %d short, %d errors, "
        "client CPU %.0f%%\n",
        n, s.requests, s.wall_s, s.prompt_tokens, s.completion_tokens, s.short_answers, s.errors,
        s.client_cpu * 100);
    if (!s.first_error.empty()) std::printf("      first error: %s\n", s.first_error.c_str());
    std::fflush(stdout);
    side.phases.push_back(s);
  }
  if (o.turn_reps > 0) {
    side.turn = second_turn(o, plan.cal, t);
    if (!side.turn.error.empty()) std::printf("  second turn: %s\n", side.turn.error.c_str());
  }
  check_alive(server, side.name, log);
  server.stop(SIGTERM, std::chrono::seconds(10));  // then SIGKILL, when it is destroyed
  return side;
}

struct Ceiling {
  int pl = 0;
  double speed_tg = NAN, gen_over_total = NAN;
};

std::vector<Ceiling> batched_bench(const Options& o, int n_prompt) {
  std::string npl;
  for (int n : o.clients) npl += (npl.empty() ? "" : ",") + str(n);
  std::vector<std::string> argv = {o.peer_dir + "/llama-batched-bench",
                                   "-m",
                                   o.model,
                                   "-c",
                                   str(ctx_per_slot(o) * max_clients(o)),
                                   "-b",
                                   "2048",
                                   "-ub",
                                   "512",
                                   "-npp",
                                   str(n_prompt),
                                   "-ntg",
                                   str(o.max_tokens),
                                   "-npl",
                                   npl,
                                   "-t",
                                   str(o.threads),
                                   "-ngl",
                                   str(o.gpu_layers),
                                   "-fa",
                                   o.flash_attn,
                                   "--output-format",
                                   "jsonl"};
  if (o.kv_unified) argv.push_back("-kvu");
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  std::printf("\n== llama-batched-bench: %s\n", cmd.c_str());
  std::fflush(stdout);
  const fs::path out = fs::path(o.log_dir) / "batched-bench.out";
  {
    ServerProcess run({argv, out});
    const auto st = run.wait(std::chrono::hours(24 * 365));
    run.wait_output_end(std::chrono::seconds(10));
    if (!st || !st->exited || st->code != 0)
      throw std::runtime_error("llama-batched-bench failed (" + str(st && st->exited ? st->code : -1) +
                               "); output " + out.string() + ":\n" + tail(run));
  }
  std::vector<Ceiling> res;
  std::ifstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '{') continue;
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("pl")) continue;
    Ceiling c;
    c.pl = j.value("pl", 0);
    c.speed_tg = j.value("speed_tg", NAN);
    const double t = j.value("t", NAN);
    c.gen_over_total = t > 0 ? c.pl * o.max_tokens / t : NAN;
    res.push_back(c);
  }
  return res;
}

// ---------------------------------------------------------------- report

double median_of(const std::vector<SideResult>& v, const std::function<double(const SideResult&)>& f) {
  std::vector<double> x;
  for (const auto& s : v) {
    const double y = f(s);
    if (!std::isnan(y)) x.push_back(y);
  }
  return percentile(x, 0.5);
}

// Medians over rounds of every measure; counts are summed.
SideResult combine(const std::vector<SideResult>& rounds) {
  SideResult c;
  if (rounds.empty()) return c;
  c = rounds[0];
  c.start_s = median_of(rounds, [](const SideResult& s) { return s.start_s; });
  c.first_request_ms = median_of(rounds, [](const SideResult& s) { return s.first_request_ms; });
  for (size_t i = 0; i < c.phases.size(); ++i) {
    auto& p = c.phases[i];
    auto med = [&](double PhaseStats::*m) {
      return median_of(rounds, [&](const SideResult& s) { return s.phases[i].*m; });
    };
    p.ttft_p50 = med(&PhaseStats::ttft_p50);
    p.ttft_p99 = med(&PhaseStats::ttft_p99);
    p.aggregate_tps = med(&PhaseStats::aggregate_tps);
    p.stream_tps = med(&PhaseStats::stream_tps);
    p.steady_tps = med(&PhaseStats::steady_tps);
    p.steady_window_s = med(&PhaseStats::steady_window_s);
    p.wall_s = med(&PhaseStats::wall_s);
    p.client_cpu = med(&PhaseStats::client_cpu);
    for (size_t r = 1; r < rounds.size(); ++r) {
      const auto& q = rounds[r].phases[i];
      p.requests += q.requests;
      p.errors += q.errors;
      p.short_answers += q.short_answers;
      p.prompt_tokens += q.prompt_tokens;
      p.completion_tokens += q.completion_tokens;
      if (p.first_error.empty()) p.first_error = q.first_error;
    }
  }
  c.turn.first_ms = median_of(rounds, [](const SideResult& s) { return s.turn.first_ms; });
  c.turn.second_ms = median_of(rounds, [](const SideResult& s) { return s.turn.second_ms; });
  for (const auto& r : rounds) {
    if (c.turn.error.empty()) c.turn.error = r.turn.error;
  }
  return c;
}

std::string num(double v, int prec = 1) {
  if (std::isnan(v)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

void row(const std::string& what, double a, double b, const char* better, int prec = 1) {
  const double ratio = (!std::isnan(a) && !std::isnan(b) && b > 0) ? a / b : NAN;
  std::printf("| %-34s | %12s | %12s | %9s | %-6s |\n", what.c_str(), num(a, prec).c_str(),
              num(b, prec).c_str(), num(ratio, 3).c_str(), better);
}

void report(const Options& o, const SideResult& a, const SideResult& b, const std::vector<Ceiling>& ceil) {
  std::printf(
      "\nmodel %s, %d threads, gpu-layers %d, flash-attn %s%s, %d slots x %d ctx, %d requests/client, "
      "~%d prompt tokens, %d max tokens, %d round(s)\n\n",
      o.model.c_str(), o.threads, o.gpu_layers, o.flash_attn.c_str(), o.kv_unified ? ", kv-unified" : "",
      max_clients(o), ctx_per_slot(o), o.requests_per_client, o.prompt_tokens, o.max_tokens, o.rounds);
  std::printf("| %-34s | %12s | %12s | %9s | %-6s |\n", "test", "rmm", peer_name(o).c_str(),
              o.peer == "in-process" ? "rmm/in-proc"
              : o.peer == "open"     ? "rmm/open"
                                     : "rmm/llama",
              "better");
  std::printf("| %-34s | %12s | %12s | %9s | %-6s |\n", "---", "---:", "---:", "---:", "---");
  for (size_t i = 0; i < o.clients.size(); ++i) {
    const PhaseStats none;
    const PhaseStats& x = a.ran ? a.phases[i] : none;
    const PhaseStats& y = b.ran ? b.phases[i] : none;
    const std::string n = str(o.clients[i]) + "x ";
    row(n + "TTFT p50 (ms)", x.ttft_p50, y.ttft_p50, "lower");
    row(n + "TTFT p99 (ms)", x.ttft_p99, y.ttft_p99, "lower");
    row(n + "aggregate gen tok/s", x.aggregate_tps, y.aggregate_tps, "higher");
    row(n + "per-stream tok/s (median)", x.stream_tps, y.stream_tps, "higher");
    row(n + "steady decode tok/s, all streaming", x.steady_tps, y.steady_tps, "higher");
    row(n + "completion tokens (sum)", a.ran ? static_cast<double>(x.completion_tokens) : NAN,
        b.ran ? static_cast<double>(y.completion_tokens) : NAN, "same", 0);
    for (const auto& c : ceil) {
      if (c.pl != o.clients[i]) continue;
      if (a.ran && c.speed_tg > 0)
        std::printf("| %-34s | %12s | %12s | %9s | %-6s |\n", (n + "rmm steady / batched-bench S_TG").c_str(),
                    num(x.steady_tps / c.speed_tg, 3).c_str(), "", "", "ratio");
      // llama.cpp's decode-only figures at the same batch size: an upper bound, not a competitor.
      std::printf("| %-34s | %12s | %12s | %9s | %-6s |\n", (n + "batched-bench gen/(pp+tg) tok/s").c_str(),
                  "", num(c.gen_over_total).c_str(), "", "bound");
      std::printf("| %-34s | %12s | %12s | %9s | %-6s |\n", (n + "batched-bench S_TG tok/s").c_str(), "",
                  num(c.speed_tg).c_str(), "", "bound");
    }
  }
  row("server ready (s)", a.ran ? a.start_s : NAN, b.ran ? b.start_s : NAN, "lower", 2);
  row("first request after start TTFT (ms)", a.ran ? a.first_request_ms : NAN,
      b.ran ? b.first_request_ms : NAN, "lower");
  if (o.turn_reps > 0) {
    const TurnStats& x = a.turn;
    const TurnStats& y = b.turn;
    row("2nd turn: 1st TTFT (ms)", a.ran ? x.first_ms : NAN, b.ran ? y.first_ms : NAN, "lower");
    row("2nd turn: 2nd TTFT (ms)", a.ran ? x.second_ms : NAN, b.ran ? y.second_ms : NAN, "lower");
    row("2nd turn: 2nd / 1st", a.ran ? x.second_ms / x.first_ms : NAN, b.ran ? y.second_ms / y.first_ms : NAN,
        "lower", 3);
    std::printf(
        "\nsecond turn: prompts of %d then %d tokens (rmm), %d then %d (llama-server); cached tokens in "
        "the second: rmm %d, llama-server %d; target for rmm: 2nd / 1st <= 0.3\n",
        x.first_prompt, x.second_prompt, y.first_prompt, y.second_prompt, x.second_cached, y.second_cached);
  }
  for (const SideResult* s : {&a, &b}) {
    if (!s->ran) continue;
    int short_answers = 0, errors = 0;
    std::string first_error = s->turn.error;
    for (const auto& p : s->phases) {
      short_answers += p.short_answers;
      errors += p.errors;
      if (first_error.empty()) first_error = p.first_error;
    }
    std::printf("%s: %d answers shorter than max tokens, %d failed requests%s%s\n", s->name.c_str(),
                short_answers, errors, first_error.empty() ? "" : "; first error: ", first_error.c_str());
  }
}

json to_json(const SideResult& s) {
  json j = {
      {"name", s.name}, {"ran", s.ran}, {"start_s", s.start_s}, {"first_request_ms", s.first_request_ms}};
  json ph = json::array();
  for (const auto& p : s.phases) {
    ph.push_back({{"clients", p.clients},
                  {"requests", p.requests},
                  {"errors", p.errors},
                  {"short_answers", p.short_answers},
                  {"prompt_tokens", p.prompt_tokens},
                  {"completion_tokens", p.completion_tokens},
                  {"wall_s", p.wall_s},
                  {"ttft_p50_ms", p.ttft_p50},
                  {"ttft_p99_ms", p.ttft_p99},
                  {"aggregate_tps", p.aggregate_tps},
                  {"stream_tps_median", p.stream_tps},
                  {"steady_tps", p.steady_tps},
                  {"steady_window_s", p.steady_window_s},
                  {"client_cpu", p.client_cpu}});
  }
  j["phases"] = ph;
  j["second_turn"] = {{"first_ms", s.turn.first_ms},           {"second_ms", s.turn.second_ms},
                      {"first_prompt", s.turn.first_prompt},   {"second_prompt", s.turn.second_prompt},
                      {"second_cached", s.turn.second_cached}, {"error", s.turn.error}};
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Serving benchmark: rmm serve vs llama-server, streaming chat clients over loopback"};
  app.add_option("MODEL", o.model, "GGUF model")->required()->check(CLI::ExistingFile);
  app.add_option("--clients", o.clients, "Concurrent clients per phase (comma list)")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024));
  app.add_option("--requests-per-client", o.requests_per_client, "Requests each client sends back to back")
      ->check(CLI::Range(1, 100000));
  app.add_option("--prompt-tokens", o.prompt_tokens, "Mean prompt tokens (each is 2/3 to 4/3 of it)")
      ->check(CLI::Range(16, 1 << 20));
  app.add_option("--max-tokens", o.max_tokens, "Tokens to generate per request")
      ->check(CLI::Range(2, 1 << 20));
  app.add_option("-t,--threads", o.threads, "CPU threads for both servers (0: all)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--gpu-layers", o.gpu_layers, "Layers on the GPU (-1: all)")->check(CLI::Range(-1, 100000));
  app.add_option("--ctx-size", o.ctx_per_slot,
                 "Context per slot (total = this x max clients; 0: what the test needs)")
      ->check(CLI::Range(0, 1 << 24));
  app.add_flag("--kv-unified", o.kv_unified, "One KV cache shared by all slots, on both servers");
  app.add_option("--flash-attn", o.flash_attn, "on, off or auto")
      ->check(CLI::IsMember({"on", "off", "auto"}));
  app.add_option("--chat-template", o.chat_template, "Chat template for both servers (default: the model's)");
  app.add_option("--rmm", o.rmm, "rmm binary");
  app.add_option("--llama-server", o.llama_server, "llama-server binary");
  app.add_option("--peer-dir", o.peer_dir, "Directory with llama-batched-bench");
  app.add_option("--only", o.only, "Run one server only")->check(CLI::IsMember({"rmm", "llama-server"}));
  app.add_option(
         "--peer", o.peer,
         "What rmm serve is compared with: llama-server, in-process (rmm serve --in-process, the "
         "cost of worker processes), or open (rmm serve without keys, limits and audit log, the cost of "
         "access control)")
      ->check(CLI::IsMember({"llama-server", "in-process", "open"}));
  app.add_flag("--batched-bench", o.batched_bench,
               "Also run llama-batched-bench at the client counts (ceiling)");
  app.add_option("--history-tokens", o.history_tokens,
                 "Second-turn test: conversation tokens before the answer")
      ->check(CLI::Range(100, 1 << 20));
  app.add_option("--turn-reps", o.turn_reps, "Second-turn test: conversations (median; 0 skips the test)")
      ->check(CLI::Range(0, 1000));
  app.add_option("--seed", o.seed, "Seed of the prompt texts");
  app.add_option("--rounds", o.rounds, "Rounds, alternating which server goes first (medians are reported)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--start-timeout", o.start_timeout, "Seconds a server may take to start")
      ->check(CLI::Range(1, 86400));
  app.add_option("--request-timeout", o.request_timeout, "Seconds one request may take")
      ->check(CLI::Range(1, 86400));
  app.add_option("--log-dir", o.log_dir, "Where server logs go (default: a new temporary directory)");
  app.add_option("--json", o.json_out, "Also write the results as JSON to this file");
  app.add_option("--rmm-arg", o.rmm_args, "Extra argument for rmm serve (repeatable)");
  app.add_option("--llama-arg", o.llama_args, "Extra argument for llama-server (repeatable)");
  CLI11_PARSE(app, argc, argv);
  if (o.threads == 0) o.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ::signal(SIGPIPE, SIG_IGN);

  try {
    const bool want_rmm = o.only != "llama-server", want_llama = o.only != "rmm";
    if (want_rmm && ::access(o.rmm.c_str(), X_OK) != 0)
      throw std::runtime_error("rmm binary not found: " + o.rmm + " (build it or pass --rmm)");
    if (want_llama && !peer_is_rmm(o) && ::access(o.llama_server.c_str(), X_OK) != 0)
      throw std::runtime_error("llama-server not found: " + o.llama_server +
                               " (build peer-tools or pass --llama-server)");
    if (o.log_dir.empty()) {
      char tmpl[] = "/tmp/rmm-bench-serve-XXXXXX";
      if (!::mkdtemp(tmpl)) throw std::runtime_error("cannot create a temporary directory");
      o.log_dir = tmpl;
    }
    fs::create_directories(o.log_dir);
    std::printf("logs in %s\n", o.log_dir.c_str());
    if (o.peer == "open") {
      // Our side needs a key: made with `rmm keys create`, as a user would.
      const auto r = rmm::run_process({o.rmm, "keys", "create", "bench", "--scope", "generate", "--database",
                                       (fs::path(o.log_dir) / "rmm-keys.db").string()});
      o.api_key = r.out.substr(0, r.out.find_first_of("\r\n"));
      if (o.api_key.rfind("rmm-", 0) != 0) throw std::runtime_error("rmm keys create gave no key: " + r.err);
    }

    // Rounds alternate which server goes first, so that slow drifts of a
    // shared machine do not favour one side; medians over rounds are reported.
    Plan plan;
    std::vector<SideResult> ours, peers;
    for (int r = 0; r < o.rounds; ++r) {
      for (const bool rmm_turn : {r % 2 == 0, r % 2 != 0}) {
        if (rmm_turn && want_rmm) ours.push_back(run_side(o, true, plan, o.log_dir, r));
        if (!rmm_turn && want_llama) peers.push_back(run_side(o, false, plan, o.log_dir, r));
      }
    }
    const SideResult a = combine(ours), b = combine(peers);
    std::vector<Ceiling> ceil;
    if (o.batched_bench) ceil = batched_bench(o, o.prompt_tokens);
    report(o, a, b, ceil);
    if (!o.json_out.empty()) {
      json j = {{"model", o.model},
                {"threads", o.threads},
                {"gpu_layers", o.gpu_layers},
                {"flash_attn", o.flash_attn},
                {"kv_unified", o.kv_unified},
                {"slots", max_clients(o)},
                {"ctx_per_slot", ctx_per_slot(o)},
                {"requests_per_client", o.requests_per_client},
                {"prompt_tokens", o.prompt_tokens},
                {"max_tokens", o.max_tokens},
                {"rounds", o.rounds},
                {"rmm", to_json(a)},
                {"llama_server", to_json(b)}};
      json c = json::array();
      for (const auto& x : ceil)
        c.push_back({{"pl", x.pl}, {"speed_tg", x.speed_tg}, {"gen_over_total", x.gen_over_total}});
      j["batched_bench"] = c;
      json raw = {{"rmm", json::array()}, {"llama_server", json::array()}};
      for (const auto& x : ours) raw["rmm"].push_back(to_json(x));
      for (const auto& x : peers) raw["llama_server"].push_back(to_json(x));
      j["per_round"] = raw;
      std::ofstream(o.json_out) << j.dump(2) << "\n";
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rmm-bench-serve: %s\n", e.what());
    return 1;
  }
  return 0;
}
