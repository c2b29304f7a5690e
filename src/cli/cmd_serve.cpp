// rmm serve: the OpenAI-compatible and native HTTP API over the models it loads.
#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cctype>
#include <chrono>
#include <iostream>
#include <map>

#include "access/audit_log.hpp"
#include "access/key_ring.hpp"
#include "access/rate_limiter.hpp"
#include "cache/response_cache.hpp"
#include "cache/settings.hpp"
#include "cli/chat_template_flag.hpp"
#include "cli/commands.hpp"
#include "cli/database.hpp"
#include "cli/generation_flags.hpp"
#include "cli/registry_host.hpp"
#include "cli/serve_settings.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/paths.hpp"
#include "core/units.hpp"
#include "engine/backend.hpp"
#include "models/memory_planner.hpp"
#include "models/model_files.hpp"
#include "models/registry.hpp"
#include "server/access_guard.hpp"
#include "server/cache_routes.hpp"
#include "server/http_server.hpp"
#include "server/native/access_routes.hpp"
#include "server/native/chat_routes.hpp"
#include "server/native/comparison_routes.hpp"
#include "server/native/hub_routes.hpp"
#include "server/native/model_routes.hpp"
#include "server/native/prompt_routes.hpp"
#include "server/native/system_routes.hpp"
#include "server/native/token_routes.hpp"
#include "server/openai/completion_routes.hpp"
#include "server/web_ui.hpp"
#include "server/ws/ws_routes.hpp"
#include "serving/model_host.hpp"
#include "worker/worker_client.hpp"

namespace rmm::cli {
namespace {

// The backend a model's speeds are filed under: its GPU's (device name
// without the index, "CUDA") when layers run there, else "CPU".
std::string speed_backend(const models::MemoryPlan& plan) {
  for (const auto& d : plan.devices) {
    if (!d.gpu || plan.gpu_layers <= 0) continue;
    std::string name = d.device;
    while (!name.empty() && std::isdigit(static_cast<unsigned char>(name.back()))) name.pop_back();
    return name.empty() ? "GPU" : name;
  }
  return "CPU";
}

// --host as an address to bind: an IP address ([::1] too) or a host name,
// resolved here so that the loopback check and the listening URL see the
// address. localhost is 127.0.0.1 without asking the resolver (the default's
// family, whatever order /etc/hosts lists).
std::string bind_address(const std::string& host) {
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(h, ec);
  if (!ec) return h;
  std::string lower = h;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower == "localhost") return "127.0.0.1";
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  const auto found = resolver.resolve(h, "", ec);
  if (ec || found.empty())
    throw Error(ErrorKind::InvalidArgument,
                "--host '" + host + "' is neither an IP address nor a name this machine resolves" +
                    (ec ? " (" + ec.message() + ")" : std::string()));
  for (const auto& r : found)
    if (r.endpoint().address().is_v4()) return r.endpoint().address().to_string();
  return found.begin()->endpoint().address().to_string();
}

// A models dir that does not exist yet is made (as `rmm pull` makes its own), so that a first
// `--models-dir NEW` serves (and pulls into) it; a path that cannot be one is refused, saying why.
void ensure_models_dir(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return;
  if (std::filesystem::exists(dir, ec))
    throw Error(ErrorKind::InvalidArgument, "the models dir " + dir + " is not a directory");
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(ErrorKind::Internal, "cannot create the models dir " + dir + ": " + ec.message());
  spdlog::info("created the models dir {}", dir);
}

// What was given on the command line, by setting name (serve_settings.hpp).
struct ServeFlags {
  std::map<std::string, std::string, std::less<>> text;
  std::map<std::string, int64_t, std::less<>> num;
  std::map<std::string, bool, std::less<>> flag;
  std::map<std::string, std::vector<std::string>, std::less<>> list;
  std::map<std::string, CLI::Option*, std::less<>> opts;  // to tell a given flag from its default
  bool given(std::string_view name) const { return opts.find(name)->second->count() > 0; }
};

// Each setting's value: its flag, else RMM_<NAME>, else config.toml, else its default.
class ServeValues {
 public:
  ServeValues(const ServeFlags& f, const Config& cfg) : f_(f), cfg_(cfg) {}
  std::string text(std::string_view name) const {
    return text(name, std::string(setting(name).default_text));
  }
  // For a default computed at run time ($RMM_HOME/models).
  std::string text(std::string_view name, const std::string& fallback) const {
    const auto& s = setting(name);
    return f_.given(name) ? f_.text.find(name)->second : cfg_.get_string(section(s), key(s), fallback);
  }
  int64_t num(std::string_view name) const {
    const auto& s = setting(name);
    return f_.given(name)
               ? f_.num.find(name)->second
               : cfg_.get_int(section(s), key(s), std::stoll(std::string(s.default_text)), s.lo, s.hi);
  }
  bool flag(std::string_view name) const {
    const auto& s = setting(name);
    return f_.given(name) ? f_.flag.find(name)->second : cfg_.get_bool(section(s), key(s), false);
  }
  // A repeatable flag; the environment or the file give one value.
  std::vector<std::string> list(std::string_view name) const {
    if (f_.given(name)) return f_.list.find(name)->second;
    const auto& s = setting(name);
    if (auto v = cfg_.get(section(s), key(s))) return {v->first};
    return {};
  }
  // Whether it was set at all (flag, environment or file).
  bool is_set(std::string_view name) const {
    const auto& s = setting(name);
    return f_.given(name) || cfg_.get(section(s), key(s)).has_value();
  }
  // Where the value came from, for messages: "--keep-alive", "RMM_KEEP_ALIVE" or the file's key.
  std::string source(std::string_view name) const {
    const auto& s = setting(name);
    const auto v = f_.given(name) ? std::nullopt : cfg_.get(section(s), key(s));
    return v ? v->second : "--" + std::string(name);
  }

 private:
  static const ServeSetting& setting(std::string_view name) { return serve_setting(name); }
  static std::string section(const ServeSetting& s) { return std::string(s.section); }
  static std::string key(const ServeSetting& s) { return std::string(s.key); }
  const ServeFlags& f_;
  const Config& cfg_;
};

int serve(ServeFlags& f) {
  if (!log_level_explicit) log::set_level(log::Level::Info);  // serve logs one line per request
  const Config cfg = Config::load(Config::default_path());
  const ServeValues v(f, cfg);

  server::ServerOptions so;
  so.host = bind_address(v.text("host"));
  so.port = static_cast<unsigned short>(v.num("port"));
  so.max_body = parse_size(v.text("max-body"), "--max-body");
  so.cors_origins = v.list("cors-origin");
  so.header_timeout =
      std::chrono::milliseconds(parse_duration_ms(v.text("header-timeout"), "--header-timeout"));
  so.body_timeout = std::chrono::milliseconds(parse_duration_ms(v.text("body-timeout"), "--body-timeout"));
  so.idle_timeout = std::chrono::milliseconds(parse_duration_ms(v.text("idle-timeout"), "--idle-timeout"));
  for (auto* t : {&so.header_timeout, &so.body_timeout, &so.idle_timeout}) {
    if (t->count() == 0) *t = std::chrono::hours(24 * 365);  // 0: no limit
  }
  so.max_connections = static_cast<size_t>(v.num("max-connections"));

  // Who may call: a loopback bind answers only to loopback Host names (DNS
  // rebinding) and needs no key while none exists; any other bind needs keys.
  server::AccessSettings access_settings;
  {
    boost::system::error_code ec;
    const auto addr = boost::asio::ip::make_address(so.host, ec);
    access_settings.check_host = !ec && addr.is_loopback();
  }
  access_settings.allowed_hosts = v.list("allowed-host");
  const bool insecure = v.flag("insecure");
  access_settings.keys_required = !access_settings.check_host && !insecure;
  access_settings.client_limits = {v.num("requests-per-minute"), v.num("tokens-per-minute"),
                                   v.num("max-streams")};
  access_settings.cors_origins = so.cors_origins;
  const int64_t audit_retention_ms = parse_duration_ms(v.text("audit-retention"), "--audit-retention");
  const bool audit_on = !v.flag("no-audit");

  serving::HostOptions ho;
  ho.models_dir = v.text("models-dir", paths::models_dir().string());
  ho.allow_model_paths = v.flag("allow-model-paths");
  ho.context.n_seq = static_cast<int>(v.num("parallel"));
  ho.fixed_slots = v.is_set("parallel");
  ho.context.n_ctx = static_cast<int>(v.num("ctx-size"));
  ho.context.n_threads = static_cast<int>(v.num("threads"));
  ho.context.n_batch = static_cast<int>(v.num("batch-size"));
  ho.context.n_ubatch = static_cast<int>(v.num("ubatch-size"));
  ho.context.kv_unified = v.flag("kv-unified");
  const std::string fa = v.text("flash-attn");
  if (fa != "on" && fa != "off" && fa != "auto")
    throw Error(ErrorKind::InvalidArgument, "flash_attn must be on, off or auto");
  ho.context.flash_attn = fa == "on" ? 1 : fa == "off" ? 0 : -1;
  ho.gpu_layers = static_cast<int>(v.num("gpu-layers"));
  ho.chat_template = chat_template_argument(v.text("chat-template"));
  ho.max_queue = static_cast<size_t>(v.num("queue"));
  // Several models stay loaded within these budgets (default: free memory minus a margin).
  const std::string max_memory = v.text("max-memory");
  const auto devices = engine::devices();
  ho.budgets =
      max_memory.empty() ? models::default_budgets(devices) : models::parse_max_memory(max_memory, devices);
  // Each model in a worker process of this same binary, unless --in-process.
  if (!v.flag("in-process")) {
    std::error_code ec;
    ho.worker_exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec) throw Error(ErrorKind::Internal, "cannot find the rmm binary for model workers: " + ec.message());
    ho.worker_log_level = log::level_name(log::level());
  }
  // Checked in either mode, so a bad value is an error even where it does not apply.
  ho.worker_timeout_ms = parse_duration_ms(v.text("worker-timeout"), "--worker-timeout");
  ho.keep_alive_ms = serving::parse_keep_alive_ms(v.text("keep-alive"), v.source("keep-alive"));
  // n_ctx 0 means the model's; with several slots each gets its share unless unified.
  const std::string model = v.text("model");
  const std::string database = v.text("database", store::default_store_location());

  // Once every setting is known to be good. Only a named one: the default is made by the first pull.
  if (v.is_set("models-dir")) ensure_models_dir(ho.models_dir);
  // Chat history, prompt templates and the response cache; opened before
  // anything slow so that a bad location fails at once.
  const auto db = open_database(database);

  // The model registry: names and aliases resolve in /v1, /api and the
  // WebSocket; sha256 values are computed in the background (the response
  // cache's model hashes too). A name not found triggers one rescan (a file
  // may have just arrived).
  models::RegistryOptions ro;
  ro.dirs = models::model_dirs(cfg, ho.models_dir);
  models::Registry registry(*db, ro);

  // The response cache lives in the database; it outlives the host, whose
  // engine threads may still finish (and record) generations while stopping.
  cache::CacheOptions co = cache::options_from_config(cfg);
  // The [cache] settings are the cache's to read; their flags win over them.
  if (f.given("no-cache")) co.enabled = !f.flag["no-cache"];
  if (f.given("cache-ttl")) co.ttl_ms = parse_duration_ms(f.text["cache-ttl"], "--cache-ttl");
  if (f.given("cache-size"))
    co.max_bytes = static_cast<int64_t>(parse_size(f.text["cache-size"], "--cache-size"));
  // Answers are keyed by the model's sha256 from the registry's one hasher (files loaded by path
  // outside the models dirs are hashed by it too); requests bypass the cache until it is known.
  cache::ResponseCache response_cache(
      db.get(), co, [&registry](const std::filesystem::path& path) { return registry.model_sha256(path); });
  ho.cache = &response_cache;
  // Names, the catalog (/v1/models lists the registry's generation models by their unique short
  // names, the one name the server shows for a model) and the folders request paths may name.
  host_from_registry(ho, registry);
  const auto scanned = registry.scan();
  std::atomic<int64_t> last_rescan{0};  // at most one rescan per second for unknown names
  ho.resolve_name = [&registry,
                     &last_rescan](const std::string& name) -> std::optional<std::filesystem::path> {
    auto m = registry.find(name);
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    int64_t last = last_rescan.load();
    if (!m && now - last >= 1000 && last_rescan.compare_exchange_strong(last, now)) {
      registry.scan();
      m = registry.find(name);
    }
    if (!m) return std::nullopt;
    return std::filesystem::path(m->path);
  };

  // Each finished generation counts as a use of its model, with its speeds;
  // written on this pool, off the engine thread. Declared before the host so
  // that it outlives the engine threads that post to it.
  boost::asio::thread_pool registry_writes(1);
  ho.on_generation_done = [&registry, &registry_writes](const serving::HostedModel& m,
                                                        const engine::GenerationResult& r) {
    if (r.stop_reason == engine::StopReason::Error) return;
    std::optional<store::ModelSpeed> speed;
    if (r.timings.generated_tokens >= 2) {
      speed = store::ModelSpeed{speed_backend(m.plan), r.timings.prompt_tokens_per_second(),
                                r.timings.generation_tokens_per_second(), unix_ms()};
    }
    boost::asio::post(registry_writes, [&registry, path = m.path, speed] {
      try {
        auto rec = registry.find_by_path(path);
        if (!rec) {  // the host keeps canonical paths; the registry's may go through a symlink
          for (const auto& r : registry.list()) {
            std::error_code ec;
            if (std::filesystem::weakly_canonical(r.path, ec) == path) rec = r;
          }
        }
        if (rec) registry.record_use(rec->id, speed);
      } catch (const std::exception& e) {
        spdlog::warn("recording a use of {}: {}", path.string(), e.what());
      }
    });
  };

  serving::ModelHost host(ho);
  // CPU, RAM and VRAM samples each second, the workers' included. After the
  // host (it asks for the workers) and before the server (whose routes read it).
  models::ResourceMonitor::Options mo;
  mo.workers = [&host] { return host.worker_pids(); };
  models::ResourceMonitor monitor(mo);
  // API keys (re-read every 2 s: `rmm keys` in another process takes effect
  // while the server runs), rate limits and the audit log.
  access::KeyRing keys(*db, access_settings.client_limits);
  if (access_settings.keys_required && !keys.enabled()) {
    throw Error(ErrorKind::InvalidArgument,
                "rmm serve on " + so.host +
                    " would be open to the network without an API key: create one with 'rmm keys create NAME "
                    "--scope admin' (same --database), or pass --insecure to serve without keys");
  }
  access::RateLimiter limiter;
  std::optional<access::AuditLog> audit;
  if (audit_on) audit.emplace(*db, access::AuditOptions{10000, audit_retention_ms, std::chrono::hours(1)});
  server::AccessGuard guard(access_settings, &keys, &limiter, audit ? &*audit : nullptr);
  so.guard = &guard;

  server::Router router;
  server::openai::add_routes(router, host, db.get());
  server::native::add_hub_routes(router, ho.models_dir);
  server::native::add_model_routes(router, host, &registry);
  server::add_cache_routes(router, host);
  server::native::add_token_routes(router, host);
  monitor.start();
  server::native::add_system_routes(router, host, monitor);
  server::add_web_ui_routes(router, v.flag("no-webui") ? server::WebUi::Off : server::WebUi::On);
  server::native::add_access_routes(router, *db, keys, audit ? &*audit : nullptr);
  server::native::add_chat_routes(router, *db);
  server::native::add_prompt_routes(router, host, *db);
  server::native::add_comparison_routes(router, *db);
  server::ws::add_websocket_routes(router, host, so.cors_origins);
  server::HttpServer http(so, router);
  const unsigned short port = http.listen();
  spdlog::info("database: {} ({}, schema {})", redacted_location(database), db->backend(),
               db->schema_version());
  spdlog::info("model registry: {} added, {} changed, {} removed, {} unchanged", scanned.added,
               scanned.updated, scanned.removed, scanned.unchanged);

  boost::asio::signal_set signals(http.io(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: stopping", sig);
    http.stop();  // first: what is cancelled next is cancelled by the shutdown, and streams say so
    host.cancel_all();
  });

  if (!model.empty()) {
    // Loaded before the listening line so that clients starting on it find the model ready.
    serving::UseOptions local;
    local.local = true;  // named by this machine's user: any path
    // Kept loaded (as llama-server and LM Studio do) unless --no-pin; requests naming no model get it.
    local.pin = !v.flag("no-pin");
    // A file outside the models folders gets a registry entry too, so that it has a short name
    // (and is listed) like every other model.
    const auto file = host.resolve(model, true);
    const auto dirs = registry.dirs();
    const bool in_dirs = std::any_of(dirs.begin(), dirs.end(), [&file](const auto& d) {
      std::error_code ec, dec;
      return models::is_inside(file, d) || models::is_inside(std::filesystem::weakly_canonical(file, ec),
                                                             std::filesystem::weakly_canonical(d, dec));
    });
    if (!in_dirs && !registry.find_by_path(file)) registry.add_file(file);
    auto m = host.acquire(model, local);
    host.set_default_model(m->path, *local.pin);
    spdlog::info("loaded {} ({}), {} slots x {} tokens{}", m->id, m->description, m->generator->shape().n_seq,
                 m->generator->shape().n_ctx_seq,
                 m->worker ? " in worker pid " + std::to_string(m->worker->pid()) : std::string());
  }
  for (const auto& b : ho.budgets) spdlog::info("memory budget {}: {}", b.device, format_bytes(b.bytes));
  // One write (std::cerr is unbuffered), so that a reader never sees half the URL; IPv6 in brackets.
  const bool v6 = so.host.find(':') != std::string::npos;
  std::cerr << "rmm serve: listening on http://" + (v6 ? "[" + so.host + "]" : so.host) + ":" +
                   std::to_string(port) + "\n"
            << std::flush;
  http.run();
  host.shutdown();  // background loads end before the server they report to goes away
  host.unload();
  response_cache.flush();  // replays still queued reach their connections while the server object lives
  registry_writes.join();
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, Action& action) {
  auto f = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand("serve", "Serve models over an OpenAI-compatible and a native HTTP API");
  cmd->footer(
      "Each setting can also come from RMM_<NAME> environment variables (RMM_PORT, RMM_MODEL, RMM_PARALLEL, "
      "...)\n"
      "or from [serve] in $RMM_HOME/config.toml (port = 5000, ...); a flag wins over the environment, which "
      "wins\n"
      "over the file.");
  declare_serve_config_keys();  // before any command loads config.toml
  for (const auto& s : serve_settings()) {
    const std::string name(s.name), flags(s.flags), help(s.help);
    CLI::Option* opt = nullptr;
    switch (s.kind) {
      case ServeSetting::Kind::Text:
        opt = cmd->add_option(flags, f->text[name], help);
        if (!s.choices.empty()) {
          std::vector<std::string> choices;
          for (size_t at = 0; at <= s.choices.size();) {
            const size_t comma = std::min(s.choices.find(',', at), s.choices.size());
            choices.emplace_back(s.choices.substr(at, comma - at));
            at = comma + 1;
          }
          opt->check(CLI::IsMember(choices));
        }
        break;
      case ServeSetting::Kind::Int:
        opt = cmd->add_option(flags, f->num[name], help)->check(CLI::Range(s.lo, s.hi));
        break;
      case ServeSetting::Kind::Flag: opt = cmd->add_flag(flags, f->flag[name], help); break;
      case ServeSetting::Kind::List: opt = cmd->add_option(flags, f->list[name], help); break;
    }
    f->opts[name] = opt;
  }
  cmd->callback([f, &action] { action = [f] { return serve(*f); }; });
}

}  // namespace rmm::cli
