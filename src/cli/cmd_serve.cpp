// rmm serve: the OpenAI-compatible and native HTTP API over the models it loads.
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
#include "cli/commands.hpp"
#include "cli/database.hpp"
#include "cli/generation_flags.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/paths.hpp"
#include "core/units.hpp"
#include "engine/backend.hpp"
#include "models/memory_planner.hpp"
#include "models/registry.hpp"
#include "server/access_guard.hpp"
#include "server/cache_routes.hpp"
#include "server/http_server.hpp"
#include "server/native/access_routes.hpp"
#include "server/native/chat_routes.hpp"
#include "server/native/hub_routes.hpp"
#include "server/native/prompt_routes.hpp"
#include "server/native/routes.hpp"
#include "server/native/system_routes.hpp"
#include "server/native/token_routes.hpp"
#include "server/openai/completion_routes.hpp"
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

struct ServeFlags {
  std::string host, models_dir, model, chat_template, max_body, flash_attn, database, cache_ttl, cache_size,
      max_memory, keep_alive, worker_timeout, header_timeout, body_timeout, idle_timeout, audit_retention;
  std::vector<std::string> cors, allowed_hosts;
  int port = 0, parallel = 0, ctx_size = 0, queue = 0, threads = 0, gpu_layers = 0, batch = 0, ubatch = 0;
  int64_t rpm = 0, tpm = 0, max_streams = 0, max_connections = 0;
  bool kv_unified = false, no_pin = false, no_cache = false, in_process = false, insecure = false,
       allow_model_paths = false, no_audit = false;
  std::map<std::string, CLI::Option*> opts;  // to tell a given flag from its default
  bool given(const std::string& name) const { return opts.at(name)->count() > 0; }
};

int serve(ServeFlags& f) {
  if (!log_level_explicit) log::set_level(log::Level::Info);  // serve logs one line per request
  const Config cfg = Config::load(Config::default_path());
  auto str = [&](const std::string& name, const std::string& key, const std::string& flag_value,
                 const std::string& fallback) {
    return f.given(name) ? flag_value : cfg.get_string("serve", key, fallback);
  };
  auto num = [&](const std::string& name, const std::string& key, int flag_value, int fallback, int lo,
                 int hi) {
    return f.given(name) ? flag_value : static_cast<int>(cfg.get_int("serve", key, fallback, lo, hi));
  };

  server::ServerOptions so;
  so.host = bind_address(str("host", "host", f.host, "127.0.0.1"));
  so.port = static_cast<unsigned short>(num("port", "port", f.port, 5000, 0, 65535));
  so.max_body = parse_size(str("max-body", "max_body", f.max_body, "8MiB"), "--max-body");
  so.cors_origins = f.given("cors-origin") ? f.cors : std::vector<std::string>{};
  if (!f.given("cors-origin")) {
    if (auto c = cfg.get("serve", "cors_origin")) so.cors_origins.push_back(c->first);
  }

  auto num64 = [&](const std::string& name, const std::string& key, int64_t flag_value, int64_t fallback,
                   int64_t lo, int64_t hi) {
    return f.given(name) ? flag_value : cfg.get_int("serve", key, fallback, lo, hi);
  };
  auto flag = [&](const std::string& name, const std::string& key, bool flag_value) {
    return f.given(name) ? flag_value : cfg.get_bool("serve", key, false);
  };
  so.header_timeout = std::chrono::milliseconds(parse_duration_ms(
      str("header-timeout", "header_timeout", f.header_timeout, "30s"), "--header-timeout"));
  so.body_timeout = std::chrono::milliseconds(
      parse_duration_ms(str("body-timeout", "body_timeout", f.body_timeout, "60s"), "--body-timeout"));
  so.idle_timeout = std::chrono::milliseconds(
      parse_duration_ms(str("idle-timeout", "idle_timeout", f.idle_timeout, "60s"), "--idle-timeout"));
  for (auto* t : {&so.header_timeout, &so.body_timeout, &so.idle_timeout}) {
    if (t->count() == 0) *t = std::chrono::hours(24 * 365);  // 0: no limit
  }
  so.max_connections =
      static_cast<size_t>(num64("max-connections", "max_connections", f.max_connections, 1024, 1, 1 << 20));

  // Who may call: a loopback bind answers only to loopback Host names (DNS
  // rebinding) and needs no key while none exists; any other bind needs keys.
  server::AccessSettings access_settings;
  {
    boost::system::error_code ec;
    const auto addr = boost::asio::ip::make_address(so.host, ec);
    access_settings.check_host = !ec && addr.is_loopback();
  }
  access_settings.allowed_hosts = f.given("allowed-host") ? f.allowed_hosts : std::vector<std::string>{};
  if (!f.given("allowed-host")) {
    if (auto h = cfg.get("serve", "allowed_host")) access_settings.allowed_hosts.push_back(h->first);
  }
  const bool insecure = flag("insecure", "insecure", f.insecure);
  access_settings.keys_required = !access_settings.check_host && !insecure;
  access_settings.client_limits = {
      num64("requests-per-minute", "requests_per_minute", f.rpm, 0, 0, 1LL << 40),
      num64("tokens-per-minute", "tokens_per_minute", f.tpm, 0, 0, 1LL << 40),
      num64("max-streams", "max_streams", f.max_streams, 0, 0, 1 << 20)};
  access_settings.cors_origins = so.cors_origins;
  const int64_t audit_retention_ms = parse_duration_ms(
      str("audit-retention", "audit_retention", f.audit_retention, "30d"), "--audit-retention");
  const bool audit_on = !flag("no-audit", "no_audit", f.no_audit);

  serving::HostOptions ho;
  ho.models_dir = str("models-dir", "models_dir", f.models_dir, paths::models_dir().string());
  ho.allow_model_paths = flag("allow-model-paths", "allow_model_paths", f.allow_model_paths);
  ho.context.n_seq = num("parallel", "parallel", f.parallel, 4, 1, 256);
  ho.fixed_slots = f.given("parallel") || cfg.get("serve", "parallel").has_value();
  ho.context.n_ctx = num("ctx-size", "ctx_size", f.ctx_size, 0, 0, 1 << 24);
  ho.context.n_threads = num("threads", "threads", f.threads, 0, 0, 1024);
  ho.context.n_batch = num("batch-size", "batch_size", f.batch, 2048, 1, 1 << 20);
  ho.context.n_ubatch = num("ubatch-size", "ubatch_size", f.ubatch, 512, 1, 1 << 20);
  ho.context.kv_unified = f.given("kv-unified") ? f.kv_unified : cfg.get_bool("serve", "kv_unified", false);
  const std::string fa = str("flash-attn", "flash_attn", f.flash_attn, "auto");
  if (fa != "on" && fa != "off" && fa != "auto")
    throw Error(ErrorKind::InvalidArgument, "flash_attn must be on, off or auto");
  ho.context.flash_attn = fa == "on" ? 1 : fa == "off" ? 0 : -1;
  ho.gpu_layers = num("gpu-layers", "gpu_layers", f.gpu_layers, -1, -1, 100000);
  ho.chat_template = chat_template_argument(str("chat-template", "chat_template", f.chat_template, ""));
  ho.max_queue = static_cast<size_t>(num("queue", "queue", f.queue, 64, 0, 1 << 20));
  // Several models stay loaded within these budgets (default: free memory minus a margin).
  const std::string max_memory = str("max-memory", "max_memory", f.max_memory, "");
  const auto devices = engine::devices();
  ho.budgets =
      max_memory.empty() ? models::default_budgets(devices) : models::parse_max_memory(max_memory, devices);
  // Each model in a worker process of this same binary, unless --in-process.
  const bool in_process = f.given("in-process") ? f.in_process : cfg.get_bool("serve", "in_process", false);
  if (!in_process) {
    std::error_code ec;
    ho.worker_exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec) throw Error(ErrorKind::Internal, "cannot find the rmm binary for model workers: " + ec.message());
    ho.worker_log_level = log::level_name(log::level());
  }
  // Checked in either mode, so a bad value is an error even where it does not apply.
  ho.worker_timeout_ms =
      parse_duration_ms(str("worker-timeout", "worker_timeout", f.worker_timeout, "5m"), "--worker-timeout");
  const auto keep_alive_setting = cfg.get("serve", "keep_alive");
  ho.keep_alive_ms = serving::parse_keep_alive_ms(
      str("keep-alive", "keep_alive", f.keep_alive, "5m"),
      f.given("keep-alive") || !keep_alive_setting ? "--keep-alive" : keep_alive_setting->second);
  // n_ctx 0 means the model's; with several slots each gets its share unless unified.
  const std::string model = str("model", "model", f.model, "");
  const std::string database = str("database", "database", f.database, store::default_store_location());

  // Once every setting is known to be good. Only a named one: the default is made by the first pull.
  if (f.given("models-dir") || cfg.get("serve", "models_dir")) ensure_models_dir(ho.models_dir);
  // Chat history, prompt templates and the response cache; opened before
  // anything slow so that a bad location fails at once.
  const auto db = open_database(database);

  // The response cache lives in the database; it outlives the host, whose
  // engine threads may still finish (and record) generations while stopping.
  cache::CacheOptions co = cache::options_from_config(cfg);
  if (f.given("no-cache")) co.enabled = !f.no_cache;
  if (f.given("cache-ttl")) co.ttl_ms = parse_duration_ms(f.cache_ttl, "--cache-ttl");
  if (f.given("cache-size")) co.max_bytes = static_cast<int64_t>(parse_size(f.cache_size, "--cache-size"));
  cache::ResponseCache response_cache(db.get(), co);
  ho.cache = &response_cache;

  // The model registry: names and aliases resolve in /v1, /api and the
  // WebSocket; sha256 values are computed in the background. A name not
  // found triggers one rescan (a file may have just arrived).
  models::RegistryOptions ro;
  ro.dirs = models::model_dirs(cfg, ho.models_dir);
  ho.model_dirs = ro.dirs;
  models::Registry registry(*db, ro);
  ho.names_of = [&registry](const std::filesystem::path& path) {
    std::vector<std::string> names;
    if (auto r = registry.find_by_path(path)) {
      names.push_back(r->short_name);
      names.insert(names.end(), r->aliases.begin(), r->aliases.end());
    }
    return names;
  };
  // The registry is the catalog: /v1/models lists its generation models (nested pulls, extra dirs).
  ho.catalog = [&registry] {
    registry.scan();  // stats the files; only new or changed ones are read
    std::vector<serving::ModelFile> out;
    for (const auto& r : registry.list()) {
      if (r.kind != "chat") continue;
      out.push_back(
          {serving::model_id_for(r.path), r.path, static_cast<uintmax_t>(r.size), r.mtime / 1'000'000'000});
    }
    return out;
  };
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
                                r.timings.generation_tokens_per_second(), serving::now_ms()};
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
  server::native::add_routes(router, host, &registry);
  server::add_cache_routes(router, host);
  server::native::add_token_routes(router, host);
  server::native::add_system_routes(router, monitor);
  server::native::add_access_routes(router, *db, keys, audit ? &*audit : nullptr);
  server::native::add_chat_routes(router, *db);
  server::native::add_prompt_routes(router, host, *db);
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
    local.pin = !flag("no-pin", "no_pin", f.no_pin);
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
  auto& o = f->opts;
  o["host"] =
      cmd->add_option("--host", f->host,
                      "Address or host name to bind (default 127.0.0.1; localhost and ::1 are loopback "
                      "only, 0.0.0.0 and :: every interface)");
  o["port"] = cmd->add_option("--port", f->port, "Port (default 5000; 0 picks a free one)")
                  ->check(CLI::Range(0, 65535));
  o["models-dir"] =
      cmd->add_option("--models-dir", f->models_dir,
                      "Directory of .gguf models, made when missing (default $RMM_HOME/models)");
  o["model"] = cmd->add_option("-m,--model", f->model,
                               "Model to load at start: a .gguf path or a name in the models dir");
  o["no-pin"] =
      cmd->add_flag("--no-pin", f->no_pin,
                    "Let the --model model unload after --keep-alive like any other (default: kept)");
  o["parallel"] = cmd->add_option("--parallel", f->parallel,
                                  "Sequences decoded together (default 4, fewer when memory is short)")
                      ->check(CLI::Range(1, 256));
  o["ctx-size"] =
      cmd->add_option(
             "-c,--ctx-size", f->ctx_size,
             "KV cache size over all slots (0: each slot gets the model's training context, at most 8192)")
          ->check(CLI::Range(0, 1 << 24));
  o["queue"] =
      cmd->add_option("--queue", f->queue, "Requests that may wait for a slot; more get 503 (default 64)")
          ->check(CLI::Range(0, 1 << 20));
  o["max-body"] = cmd->add_option("--max-body", f->max_body, "Largest request body (default 8MiB)");
  o["threads"] =
      cmd->add_option("-t,--threads", f->threads, "CPU threads (0: all)")->check(CLI::Range(0, 1024));
  o["gpu-layers"] =
      cmd->add_option("--gpu-layers,--n-gpu-layers", f->gpu_layers, "Layers on the GPU (-1: all; default -1)")
          ->check(CLI::Range(-1, 100000));
  o["batch-size"] =
      cmd->add_option("-b,--batch-size", f->batch, "Logical batch size")->check(CLI::Range(1, 1 << 20));
  o["ubatch-size"] = cmd->add_option("--ubatch-size", f->ubatch, "Physical batch size (default 512)")
                         ->check(CLI::Range(1, 1 << 20));
  o["flash-attn"] =
      cmd->add_option("--flash-attn", f->flash_attn, "Flash attention: on, off or auto (default auto)")
          ->check(CLI::IsMember({"on", "off", "auto"}));
  o["kv-unified"] = cmd->add_flag("--kv-unified", f->kv_unified, "One KV cache shared by all slots");
  o["chat-template"] = cmd->add_option("--chat-template", f->chat_template,
                                       "Named chat template, Jinja source, or a file of Jinja source");
  o["cors-origin"] =
      cmd->add_option("--cors-origin", f->cors, "Extra browser origin allowed (repeatable; * for any)");
  o["database"] = cmd->add_option("--database", f->database,
                                  "Where history, prompts and the cache live: a SQLite file or a postgres:// "
                                  "URL (default $RMM_HOME/rmm.db)");
  o["cache-ttl"] =
      cmd->add_option("--cache-ttl", f->cache_ttl,
                      "How long cached responses live: 90s, 30m, 24h, 7d; 0 for ever (default 24h)");
  o["cache-size"] =
      cmd->add_option("--cache-size", f->cache_size, "Response cache bound (default 256MiB; 0: none)");
  o["max-memory"] = cmd->add_option("--max-memory", f->max_memory,
                                    "Memory models may use: 8GiB for each device, or cpu=8GiB,cuda0=20GiB "
                                    "(default: free memory minus 1 GiB per device)");
  o["keep-alive"] = cmd->add_option("--keep-alive", f->keep_alive,
                                    "How long an idle model stays loaded: 90s, 5m, 1h; 0 unloads at once, -1 "
                                    "never (default 5m)");
  o["no-cache"] = cmd->add_flag("--no-cache", f->no_cache, "Turn the response cache off");
  o["worker-timeout"] =
      cmd->add_option("--worker-timeout", f->worker_timeout,
                      "A model worker with requests that says nothing this long is killed as "
                      "hung (90s, 5m; 0: never; default 5m)");
  o["insecure"] = cmd->add_flag("--insecure", f->insecure,
                                "Serve a non-loopback address without API keys (anyone who reaches the port "
                                "may use every route)");
  o["allowed-host"] =
      cmd->add_option("--allowed-host", f->allowed_hosts,
                      "Another Host name a loopback server answers to (repeatable; others get "
                      "403, against DNS rebinding)");
  o["allow-model-paths"] =
      cmd->add_flag("--allow-model-paths", f->allow_model_paths,
                    "Let requests load model files by any path, not only names and paths "
                    "inside the models folders");
  o["requests-per-minute"] =
      cmd->add_option("--requests-per-minute", f->rpm,
                      "Requests per minute per key (per address without keys); 0: no limit (default 0)")
          ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  o["tokens-per-minute"] =
      cmd->add_option("--tokens-per-minute", f->tpm,
                      "Prompt and generated tokens per minute per key (or address); 0: no limit (default 0)")
          ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  o["max-streams"] = cmd->add_option("--max-streams", f->max_streams,
                                     "Generations at once per key (or address); 0: no limit (default 0)")
                         ->check(CLI::Range(0, 1 << 20));
  o["max-connections"] = cmd->add_option("--max-connections", f->max_connections,
                                         "Open connections, WebSockets included (default 1024)")
                             ->check(CLI::Range(1, 1 << 20));
  o["header-timeout"] = cmd->add_option("--header-timeout", f->header_timeout,
                                        "Time for a request's headers to arrive (default 30s; 0: none)");
  o["body-timeout"] =
      cmd->add_option("--body-timeout", f->body_timeout, "Time for a request's body to arrive (default 60s)");
  o["idle-timeout"] =
      cmd->add_option("--idle-timeout", f->idle_timeout,
                      "How long a kept-alive connection may wait for its next request (default 60s)");
  o["audit-retention"] = cmd->add_option("--audit-retention", f->audit_retention,
                                         "How long audit log entries are kept (default 30d; 0: for ever)");
  o["no-audit"] = cmd->add_flag("--no-audit", f->no_audit, "Keep no audit log");
  o["in-process"] = cmd->add_flag("--in-process", f->in_process,
                                  "Run models in this process instead of one supervised worker process each "
                                  "(a crash in llama.cpp then stops the server)");
  cmd->callback([f, &action] { action = [f] { return serve(*f); }; });
}

}  // namespace rmm::cli
