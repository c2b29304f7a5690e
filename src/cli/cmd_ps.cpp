// rmm ps: the models a running `rmm serve` holds (GET /api/models/loaded).
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/text_table.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/units.hpp"

namespace rmm::cli {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using json = nlohmann::json;

struct PsFlags {
  std::string url, host;
  int port = 0;
  bool json = false;
  CLI::Option* host_opt = nullptr;
  CLI::Option* port_opt = nullptr;
};

struct Target {
  std::string host, port;  // host without brackets, also for IPv6
  // HOST:PORT as URLs and Host headers write it: an IPv6 address in brackets.
  std::string authority() const {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  }
  std::string url() const { return "http://" + authority(); }
};

// --url, else --host/--port, else serve's own settings ([serve] in config.toml, RMM_HOST, RMM_PORT).
Target target_of(const PsFlags& f) {
  Target t;
  if (!f.url.empty()) {
    std::string rest = f.url;
    if (rest.rfind("http://", 0) == 0)
      rest = rest.substr(7);
    else if (rest.find("://") != std::string::npos)
      throw Error(ErrorKind::InvalidArgument, "--url must be http://HOST:PORT, not " + f.url);
    rest = rest.substr(0, rest.find('/'));
    const auto bad = [&] {
      return Error(ErrorKind::InvalidArgument, "--url must be http://HOST:PORT, not " + f.url);
    };
    if (rest.starts_with("[")) {
      // [::1]:5000: the brackets hold an IPv6 address, whose colons are not the port's.
      const auto close = rest.find(']');
      if (close == std::string::npos || (close + 1 < rest.size() && rest[close + 1] != ':')) throw bad();
      t.host = rest.substr(1, close - 1);
      t.port = close + 1 < rest.size() ? rest.substr(close + 2) : "80";
    } else {
      const auto colon = rest.rfind(':');
      t.host = colon == std::string::npos ? rest : rest.substr(0, colon);
      t.port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
    }
    if (t.host.empty() || t.port.empty()) throw bad();
    return t;
  }
  const Config cfg = Config::load(Config::default_path());
  t.host = f.host_opt->count() ? f.host : cfg.get_string("serve", "host", "127.0.0.1");
  t.port = std::to_string(f.port_opt->count() ? f.port : cfg.get_int("serve", "port", 5000, 1, 65535));
  if (t.host.size() > 2 && t.host.front() == '[' && t.host.back() == ']')
    t.host = t.host.substr(1, t.host.size() - 2);
  if (t.host == "0.0.0.0" || t.host.empty()) t.host = "127.0.0.1";  // bound to all: reach it on loopback
  if (t.host == "::") t.host = "::1";
  return t;
}

// GET `path` from the server; nullopt when nothing answers there.
std::optional<std::string> get(const Target& t, const std::string& path) {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  beast::error_code ec;
  tcp::resolver resolver(io);
  const auto addresses = resolver.resolve(t.host, t.port, ec);
  if (ec) return std::nullopt;
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(addresses, ec);
  if (ec) return std::nullopt;
  http::request<http::empty_body> req{http::verb::get, path, 11};
  req.set(http::field::host, t.authority());
  req.set(http::field::accept, "application/json");
  http::write(stream, req, ec);
  if (ec) return std::nullopt;
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res, ec);
  if (ec) return std::nullopt;
  if (res.result() != http::status::ok)
    throw Error(ErrorKind::Internal,
                t.url() + path + " answered " + std::to_string(res.result_int()) + ": " + res.body());
  return res.body();
}

std::string duration_text(int64_t ms) {
  if (ms <= 0) return "now";
  const int64_t s = (ms + 999) / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  return std::to_string(s / 3600) + "h" + (s % 3600 / 60 ? std::to_string(s % 3600 / 60) + "m" : "");
}

void print_table(const json& loaded) {
  const json& models = loaded.at("models");
  if (models.empty()) {
    std::cout << "no models loaded\n";
    return;
  }
  const double now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() /
                     1000.0;
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "SIZE", "PROCESSOR", "SLOTS", "RUNNING/QUEUED", "UNTIL", "PINNED"}};
  for (const auto& m : models) {
    const json& mem = m.value("memory", json::object());
    const int gpu_layers = mem.value("gpu_layers", 0);
    const json expires = m.value("expires_at", json(nullptr));
    rows.push_back({m.value("id", std::string("?")), format_bytes(mem.value("total", uint64_t{0})),
                    gpu_layers > 0 ? "GPU (" + std::to_string(gpu_layers) + " layers)" : "CPU",
                    std::to_string(m.value("slots", 0)),
                    std::to_string(m.value("running", 0)) + "/" + std::to_string(m.value("queued", 0)),
                    expires.is_number()
                        ? duration_text(static_cast<int64_t>((expires.get<double>() - now) * 1000))
                        : "forever",
                    m.value("pinned", false) ? "yes" : "no"});
  }
  write_table(std::cout, rows);
}

int ps(const PsFlags& f) {
  const Target t = target_of(f);
  const auto body = get(t, "/api/models/loaded");
  if (!body) {
    std::cerr << "rmm ps: no rmm serve at " << t.url() << "\n";
    return 1;
  }
  const json loaded = json::parse(*body, nullptr, false);
  if (!loaded.is_object() || !loaded.contains("models") || !loaded["models"].is_array())
    throw Error(ErrorKind::Internal, t.url() + " did not answer like rmm serve: " + body->substr(0, 200));
  if (f.json) {
    std::cout << loaded.dump(2) << "\n";
  } else {
    print_table(loaded);
  }
  return 0;
}

}  // namespace

void add_ps_command(CLI::App& app, Action& action) {
  auto f = std::make_shared<PsFlags>();
  auto* cmd = app.add_subcommand("ps", "Show the models a running `rmm serve` has loaded");
  cmd->add_option("--url", f->url, "The server, http://HOST:PORT (default: serve's host and port)");
  f->host_opt = cmd->add_option("--host", f->host, "The server's host (default: serve's, 127.0.0.1)");
  f->port_opt = cmd->add_option("--port", f->port, "The server's port (default: serve's, 5000)")
                    ->check(CLI::Range(1, 65535));
  cmd->add_flag("--json", f->json, "Print the server's JSON");
  cmd->callback([f, &action] { action = [f] { return ps(*f); }; });
}

}  // namespace rmm::cli
