// rmm keys (create, list, revoke) and rmm audit: API keys and the audit log,
// in the database `rmm serve` uses (a running server sees changes within 2 s).
#include <chrono>
#include <ctime>
#include <iostream>

#include "access/key_admin.hpp"
#include "cli/commands.hpp"
#include "cli/database.hpp"
#include "cli/text_table.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/units.hpp"
#include "store/store.hpp"

namespace rmm::cli {
namespace {

std::string database_location(const std::string& flag) {
  if (!flag.empty()) return flag;
  const Config cfg = Config::load(Config::default_path());
  return cfg.get_string("serve", "database", store::default_store_location());
}

std::string local_time(int64_t ms) { return ms <= 0 ? "-" : format_time(ms, "%Y-%m-%d %H:%M:%S"); }

std::string limit_text(int64_t v) { return v < 0 ? "default" : v == 0 ? "none" : std::to_string(v); }

struct KeysFlags {
  std::string database, name, scope = "generate", expires;
  std::vector<std::string> models;
  int64_t rpm = -1, tpm = -1, streams = -1;
  bool json = false;
};

int keys_create(const KeysFlags& f) {
  access::KeySpec spec;
  spec.name = f.name;
  spec.scope = f.scope;
  spec.models = f.models;
  if (!f.expires.empty()) spec.expires_in_ms = parse_duration_ms(f.expires, "--expires");
  spec.requests_per_minute = f.rpm;
  spec.tokens_per_minute = f.tpm;
  spec.max_streams = f.streams;
  const auto db = open_database(database_location(f.database));
  const auto created = access::create_key(*db, spec);
  if (f.json) {
    auto j = access::key_json(created.record, unix_ms());
    j["key"] = created.key;
    std::cout << j.dump(2) << "\n";
  } else {
    // The key on stdout alone (pipe it into a secret store); what it is on stderr.
    std::cerr << "API key '" << created.record.name << "' (scope " << created.record.scope
              << (created.record.expires_at ? ", expires " + local_time(created.record.expires_at) : "")
              << "). It is shown only now: keep it somewhere safe.\n";
    std::cout << created.key << "\n";
  }
  return 0;
}

int keys_list(const KeysFlags& f) {
  const auto db = open_database(database_location(f.database));
  const auto keys = db->list_api_keys();
  const int64_t now = unix_ms();
  if (f.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& k : keys) out.push_back(access::key_json(k, now));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (keys.empty()) {
    std::cout << "no API keys (rmm keys create NAME)\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows{
      {"NAME", "PREFIX", "SCOPE", "MODELS", "RPM", "TPM", "STREAMS", "CREATED", "LAST USED", "STATE"}};
  for (const auto& k : keys) {
    std::string models;
    for (const auto& m : k.models) models += (models.empty() ? "" : ",") + m;
    rows.push_back({k.name, k.prefix + "...", k.scope, models.empty() ? "*" : models,
                    limit_text(k.requests_per_minute), limit_text(k.tokens_per_minute),
                    limit_text(k.max_streams), local_time(k.created_at), local_time(k.last_used_at),
                    access::key_json(k, now)["state"].get<std::string>()});
  }
  write_table(std::cout, rows);
  return 0;
}

int keys_revoke(const KeysFlags& f) {
  const auto db = open_database(database_location(f.database));
  if (!db->revoke_api_key(f.name, unix_ms()))
    throw Error(ErrorKind::NotFound, "no active API key named '" + f.name + "'");
  std::cerr << "revoked '" << f.name << "' (a running rmm serve refuses it within 2 s)\n";
  return 0;
}

struct AuditFlags {
  std::string database, since, key;
  int limit = 100;
  bool json = false;
};

int audit(const AuditFlags& f) {
  const auto db = open_database(database_location(f.database));
  store::AuditQuery q;
  q.since = access::parse_since(f.since, unix_ms());
  q.key_name = f.key;
  q.limit = f.limit;
  const auto entries = db->list_audit(q);
  if (f.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : entries) out.push_back(access::audit_json(e));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows{
      {"TIME", "KEY", "CLIENT", "REQUEST", "MODEL", "STATUS", "PROMPT", "GENERATED", "MS"}};
  for (const auto& e : entries) {
    rows.push_back({local_time(e.time), e.key_name.empty() ? "-" : e.key_name, e.client,
                    e.method + " " + e.route, e.model.empty() ? "-" : e.model, std::to_string(e.status),
                    std::to_string(e.prompt_tokens), std::to_string(e.completion_tokens),
                    std::to_string(e.duration_ms)});
  }
  write_table(std::cout, rows);
  return 0;
}

}  // namespace

void add_keys_command(CLI::App& app, Action& action) {
  auto f = std::make_shared<KeysFlags>();
  auto* keys = app.add_subcommand("keys", "API keys for rmm serve: create, list, revoke");
  keys->require_subcommand(1);
  auto database = [f](CLI::App* c) {
    c->add_option("--database", f->database,
                  "The server's database (default as rmm serve: $RMM_HOME/rmm.db)");
  };

  auto* create = keys->add_subcommand("create", "Create a key and print it (once) on stdout");
  create->add_option("name", f->name, "The key's name (letters, digits, . _ -)")->required();
  create->add_option("--scope", f->scope, "read, generate (default) or admin")
      ->check(CLI::IsMember({"read", "generate", "admin"}));
  create->add_option("--models", f->models, "Model name patterns it may use (* and ?; default: all)")
      ->expected(1, -1);
  create->add_option("--expires", f->expires, "Lifetime: 30d, 12h, ... (default: never)");
  create->add_option("--requests-per-minute", f->rpm, "Its request limit (0: none; default: the server's)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  create->add_option("--tokens-per-minute", f->tpm, "Its token limit (0: none; default: the server's)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  create->add_option("--max-streams", f->streams, "Its generations at once (0: none; default: the server's)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  create->add_flag("--json", f->json, "Print the key and its settings as JSON");
  database(create);
  create->callback([f, &action] { action = [f] { return keys_create(*f); }; });

  auto* list = keys->add_subcommand("list", "The keys (never the keys themselves: their prefixes)");
  list->add_flag("--json", f->json, "JSON output");
  database(list);
  list->callback([f, &action] { action = [f] { return keys_list(*f); }; });

  auto* revoke = keys->add_subcommand("revoke", "Revoke a key");
  revoke->add_option("name", f->name, "The key's name")->required();
  database(revoke);
  revoke->callback([f, &action] { action = [f] { return keys_revoke(*f); }; });
}

void add_audit_command(CLI::App& app, Action& action) {
  auto f = std::make_shared<AuditFlags>();
  auto* cmd =
      app.add_subcommand("audit", "The audit log of rmm serve: admin actions and generations, newest first");
  cmd->add_option("--since", f->since, "Entries from this long ago (1h, 7d) or this unix time in ms");
  cmd->add_option("--key", f->key, "Only this key's entries");
  cmd->add_option("--limit", f->limit, "At most this many (default 100)")->check(CLI::Range(1, 10000));
  cmd->add_flag("--json", f->json, "JSON output");
  cmd->add_option("--database", f->database,
                  "The server's database (default as rmm serve: $RMM_HOME/rmm.db)");
  cmd->callback([f, &action] { action = [f] { return audit(*f); }; });
}

}  // namespace rmm::cli
