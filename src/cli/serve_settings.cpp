#include "cli/serve_settings.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>

#include "core/config.hpp"
#include "core/error.hpp"

namespace rmm::cli {

namespace {

using K = ServeSetting::Kind;

// In --help order. A help text that names its default says the default_text.
constexpr ServeSetting kSettings[] = {
    {"host", "--host", "serve", "host", "127.0.0.1",
     "Address or host name to bind (default 127.0.0.1; localhost and ::1 are loopback only, 0.0.0.0 and :: "
     "every interface)"},
    {"port", "--port", "serve", "port", "5000", "Port (default 5000; 0 picks a free one)", K::Int, 0, 65535},
    {"models-dir", "--models-dir", "serve", "models_dir", "$RMM_HOME/models",
     "Directory of .gguf models, made when missing (default $RMM_HOME/models)"},
    {"model", "-m,--model", "serve", "model", "",
     "Model to load at start: a .gguf path or a name in the models dir"},
    {"no-pin", "--no-pin", "serve", "no_pin", "",
     "Let the --model model unload after --keep-alive like any other (default: kept)", K::Flag},
    {"parallel", "--parallel", "serve", "parallel", "4",
     "Sequences decoded together (default 4, fewer when memory is short)", K::Int, 1, 256},
    {"ctx-size", "-c,--ctx-size", "serve", "ctx_size", "0",
     "KV cache size over all slots (0: each slot gets the model's training context, at most 8192)", K::Int, 0,
     1 << 24},
    {"queue", "--queue", "serve", "queue", "64",
     "Requests that may wait for a slot; more get 503 (default 64)", K::Int, 0, 1 << 20},
    {"max-body", "--max-body", "serve", "max_body", "8MiB", "Largest request body (default 8MiB)"},
    {"threads", "-t,--threads", "serve", "threads", "0", "CPU threads (0: all)", K::Int, 0, 1024},
    {"gpu-layers", "--gpu-layers,--n-gpu-layers", "serve", "gpu_layers", "-1",
     "Layers on the GPU (-1: all; default -1)", K::Int, -1, 100000},
    {"batch-size", "-b,--batch-size", "serve", "batch_size", "2048", "Logical batch size", K::Int, 1,
     1 << 20},
    {"ubatch-size", "--ubatch-size", "serve", "ubatch_size", "512", "Physical batch size (default 512)",
     K::Int, 1, 1 << 20},
    {"flash-attn", "--flash-attn", "serve", "flash_attn", "auto",
     "Flash attention: on, off or auto (default auto)", K::Text, 0, 0, "on,off,auto"},
    {"kv-unified", "--kv-unified", "serve", "kv_unified", "", "One KV cache shared by all slots", K::Flag},
    {"chat-template", "--chat-template", "serve", "chat_template", "",
     "Named chat template, Jinja source, or a file of Jinja source"},
    {"no-webui", "--no-webui", "serve", "no_webui", "", "Serve no web UI at / (the APIs stay)", K::Flag},
    {"cors-origin", "--cors-origin", "serve", "cors_origin", "",
     "Extra browser origin allowed (repeatable; * for any)", K::List},
    {"database", "--database", "serve", "database", "$RMM_HOME/rmm.db",
     "Where history, prompts and the cache live: a SQLite file or a postgres:// URL (default "
     "$RMM_HOME/rmm.db)"},
    {"cache-ttl", "--cache-ttl", "cache", "ttl", "24h",
     "How long cached responses live: 90s, 30m, 24h, 7d; 0 for ever (default 24h)"},
    {"cache-size", "--cache-size", "cache", "max_size", "256MiB",
     "Response cache bound (default 256MiB; 0: none)"},
    {"max-memory", "--max-memory", "serve", "max_memory", "",
     "Memory models may use: 8GiB for each device, or cpu=8GiB,cuda0=20GiB (default: free memory minus 1 GiB "
     "per device)"},
    {"keep-alive", "--keep-alive", "serve", "keep_alive", "5m",
     "How long an idle model stays loaded: 90s, 5m, 1h; 0 unloads at once, -1 never (default 5m)"},
    {"no-cache", "--no-cache", "cache", "enabled", "", "Turn the response cache off", K::Flag},
    {"worker-timeout", "--worker-timeout", "serve", "worker_timeout", "5m",
     "A model worker with requests that says nothing this long is killed as hung (90s, 5m; 0: never; default "
     "5m)"},
    {"insecure", "--insecure", "serve", "insecure", "",
     "Serve a non-loopback address without API keys (anyone who reaches the port may use every route)",
     K::Flag},
    {"allowed-host", "--allowed-host", "serve", "allowed_host", "",
     "Another Host name a loopback server answers to (repeatable; others get 403, against DNS rebinding)",
     K::List},
    {"allow-model-paths", "--allow-model-paths", "serve", "allow_model_paths", "",
     "Let requests load model files by any path, not only names and paths inside the models folders",
     K::Flag},
    {"requests-per-minute", "--requests-per-minute", "serve", "requests_per_minute", "0",
     "Requests per minute per key (per address without keys); 0: no limit (default 0)", K::Int, 0, 1LL << 40},
    {"tokens-per-minute", "--tokens-per-minute", "serve", "tokens_per_minute", "0",
     "Prompt and generated tokens per minute per key (or address); 0: no limit (default 0)", K::Int, 0,
     1LL << 40},
    {"max-streams", "--max-streams", "serve", "max_streams", "0",
     "Generations at once per key (or address); 0: no limit (default 0)", K::Int, 0, 1 << 20},
    {"max-connections", "--max-connections", "serve", "max_connections", "1024",
     "Open connections, WebSockets included (default 1024)", K::Int, 1, 1 << 20},
    {"header-timeout", "--header-timeout", "serve", "header_timeout", "30s",
     "Time for a request's headers to arrive (default 30s; 0: none)"},
    {"body-timeout", "--body-timeout", "serve", "body_timeout", "60s",
     "Time for a request's body to arrive (default 60s)"},
    {"idle-timeout", "--idle-timeout", "serve", "idle_timeout", "60s",
     "How long a kept-alive connection may wait for its next request (default 60s)"},
    {"audit-retention", "--audit-retention", "serve", "audit_retention", "30d",
     "How long audit log entries are kept (default 30d; 0: for ever)"},
    {"no-audit", "--no-audit", "serve", "no_audit", "", "Keep no audit log", K::Flag},
    {"in-process", "--in-process", "serve", "in_process", "",
     "Run models in this process instead of one supervised worker process each (a crash in llama.cpp then "
     "stops the server)",
     K::Flag},
};

}  // namespace

std::span<const ServeSetting> serve_settings() { return kSettings; }

const ServeSetting& serve_setting(std::string_view name) {
  for (const auto& s : kSettings) {
    if (s.name == name) return s;
  }
  throw Error(ErrorKind::Internal, "no serve setting named " + std::string(name));
}

std::string env_name(const ServeSetting& s) {
  std::string env = "RMM_";
  if (s.section != "serve") env.append(s.section).append("_");
  env.append(s.key);
  for (auto& ch : env) ch = ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return env;
}

std::vector<std::string> serve_config_keys() {
  std::vector<std::string> keys;
  for (const auto& s : kSettings) {
    if (s.section == "serve") keys.emplace_back(s.key);
  }
  return keys;
}

void declare_serve_config_keys() {
  static std::once_flag once;
  std::call_once(once, [] { Config::declare_keys("serve", serve_config_keys()); });
}

std::string serve_settings_markdown() {
  std::string out =
      "| Flag | `config.toml` key | Environment | Default | Meaning |\n"
      "|---|---|---|---|---|\n";
  for (const auto& s : kSettings) {
    out.append("| ");
    for (size_t start = 0; start <= s.flags.size();) {
      const size_t comma = std::min(s.flags.find(',', start), s.flags.size());
      out.append(start == 0 ? "`" : ", `").append(s.flags.substr(start, comma - start)).append("`");
      start = comma + 1;
    }
    out.append(" | `[").append(s.section).append("] ").append(s.key).append("` | `").append(env_name(s));
    out.append("` | ");
    if (s.kind == ServeSetting::Kind::Flag) {
      out.append("off");
    } else if (s.default_text.empty()) {
      out.append("none");
    } else {
      out.append("`").append(s.default_text).append("`");
    }
    out.append(" | ").append(s.help).append(" |\n");
  }
  return out;
}

}  // namespace rmm::cli
