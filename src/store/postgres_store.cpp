#include "store/postgres_store.hpp"

#include <pqxx/pqxx>

#include "core/error.hpp"
#include "store/migrations.hpp"
#include "store/postgres_internal.hpp"
#include "store/store_util.hpp"

namespace rmm::store {

namespace {

// Serializes migrations of one database across processes.
constexpr int64_t kMigrationLock = 7207120001;

constexpr const char* kTemplateColumns = "id, version, name, description, tags_json, body_json, created_at";
constexpr const char* kConversationColumns =
    "c.id, c.title, c.model, c.params_json, c.created_at, c.updated_at, c.message_count, c.owner";
constexpr const char* kMessageColumns =
    "id, role, content, model, prompt_tokens, completion_tokens, timings_json, logprobs_json, created_at";
// translate() folds ASCII letters only, whatever the database's locale, so
// search behaves exactly like SQLite's lower().
constexpr const char* kFoldFrom = "'ABCDEFGHIJKLMNOPQRSTUVWXYZ'";
constexpr const char* kFoldTo = "'abcdefghijklmnopqrstuvwxyz'";

TemplateVersion read_template(const pqxx::row& r) {
  TemplateVersion t;
  t.id = r[0].as<std::string>();
  t.version = r[1].as<int>();
  t.name = r[2].as<std::string>();
  t.description = r[3].as<std::string>();
  t.tags = util::tags_from_json(r[4].as<std::string>());
  t.body_json = r[5].as<std::string>();
  t.created_at = r[6].as<int64_t>();
  return t;
}

Conversation read_conversation(const pqxx::row& r) {
  Conversation c;
  c.id = r[0].as<std::string>();
  c.title = r[1].as<std::string>();
  c.model = r[2].as<std::string>();
  c.params_json = r[3].as<std::string>();
  c.created_at = r[4].as<int64_t>();
  c.updated_at = r[5].as<int64_t>();
  c.message_count = r[6].as<int>();
  c.owner = r[7].as<std::string>();
  return c;
}

ChatMessage read_message(const pqxx::row& r) {
  ChatMessage m;
  m.id = r[0].as<int64_t>();
  m.role = r[1].as<std::string>();
  m.content = r[2].as<std::string>();
  m.model = r[3].as<std::string>();
  m.prompt_tokens = r[4].as<int>();
  m.completion_tokens = r[5].as<int>();
  m.timings_json = r[6].as<std::string>();
  m.logprobs_json = r[7].as<std::string>();
  m.created_at = r[8].as<int64_t>();
  return m;
}

ChatMessage insert_message(pqxx::work& w, const std::string& conversation_id, const ChatMessage& m) {
  ChatMessage out = m;
  out.created_at = util::now_ms();
  pqxx::result r = w.exec_params(
      "UPDATE conversations SET updated_at = $2, message_count = message_count + 1, "
      "touch_seq = nextval('conversation_touch_seq') WHERE id = $1",
      conversation_id, out.created_at);
  if (r.affected_rows() == 0) throw Error(ErrorKind::NotFound, "no conversation with id " + conversation_id);
  out.id =
      w.exec_params1(
           "INSERT INTO messages (conversation_id, role, content, model, prompt_tokens, completion_tokens, "
           "timings_json, logprobs_json, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING "
           "id",
           conversation_id, out.role, out.content, out.model, out.prompt_tokens, out.completion_tokens,
           out.timings_json, out.logprobs_json, out.created_at)[0]
          .as<int64_t>();
  return out;
}

void delete_expired(pqxx::work& w, const CacheLimits& limits, int64_t now) {
  if (limits.ttl_ms > 0) w.exec_params("DELETE FROM cache WHERE created_at < $1", now - limits.ttl_ms);
}

constexpr const char* kModelColumns =
    "id, path, size, mtime, COALESCE(sha256, ''), kind, metadata_json, short_name, split_group, first_seen, "
    "COALESCE(first_used, 0), COALESCE(last_used, 0), use_count";

// Models (all, or the one with `id`) with their aliases and tags.
std::vector<ModelRecord> select_models(pqxx::work& w, std::optional<int64_t> id) {
  const std::string select = std::string("SELECT ") + kModelColumns + " FROM models";
  pqxx::result r = id ? w.exec_params(select + " WHERE id = $1", *id)
                      : w.exec(select + " ORDER BY short_name COLLATE \"C\"");
  std::vector<ModelRecord> out;
  for (const auto& row : r) {
    ModelRecord m;
    m.id = row[0].as<int64_t>();
    m.path = row[1].as<std::string>();
    m.size = row[2].as<int64_t>();
    m.mtime = row[3].as<int64_t>();
    m.sha256 = row[4].as<std::string>();
    m.kind = row[5].as<std::string>();
    m.metadata_json = row[6].as<std::string>();
    m.short_name = row[7].as<std::string>();
    m.split_group = row[8].as<std::string>();
    m.first_seen = row[9].as<int64_t>();
    m.first_used = row[10].as<int64_t>();
    m.last_used = row[11].as<int64_t>();
    m.use_count = row[12].as<int64_t>();
    out.push_back(std::move(m));
  }
  auto attach = [&](const char* sql, std::vector<std::string> ModelRecord::*field) {
    for (const auto& row : w.exec(sql)) {
      const auto model = row[0].as<int64_t>();
      for (auto& m : out)
        if (m.id == model) (m.*field).push_back(row[1].as<std::string>());
    }
  };
  if (!out.empty()) {
    attach("SELECT model_id, alias FROM model_aliases ORDER BY alias COLLATE \"C\"", &ModelRecord::aliases);
    attach("SELECT model_id, tag FROM model_tags ORDER BY tag COLLATE \"C\"", &ModelRecord::tags);
  }
  return out;
}

// A result row as util::read_api_key and util::read_audit_entry read it.
void require_model(pqxx::work& w, int64_t id) {
  if (w.exec_params("SELECT 1 FROM models WHERE id = $1 FOR UPDATE", id).empty())
    throw Error(ErrorKind::NotFound, "no model with id " + std::to_string(id));
}

}  // namespace

PostgresStore::PostgresStore(const std::string& url, int target_version) : url_(url) {
  std::lock_guard lock(mutex_);
  try {
    migrate(target_version);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(ErrorKind::Internal, std::string("PostgreSQL store (migrating): ") + e.what());
  }
}

PostgresStore::~PostgresStore() = default;

pqxx::connection_base& PostgresStore::connection() {
  if (!conn_ || !conn_->conn.is_open()) {
    conn_.reset();
    try {
      auto c = std::make_unique<Connection>(url_);
      c->conn.set_client_encoding("UTF8");
      pqxx::nontransaction setup(c->conn);
      setup.exec("SET client_min_messages TO warning");
      setup.commit();
      conn_ = std::move(c);
    } catch (const std::exception& e) {
      throw Error(ErrorKind::Internal, std::string("cannot connect to PostgreSQL: ") + e.what());
    }
  }
  return conn_->conn;
}

void PostgresStore::migrate(int target_version) {
  const auto& steps = postgres_migrations();
  const int latest = steps.back().version;
  if (target_version < 0 || target_version > latest) target_version = latest;
  pqxx::connection_base& conn = connection();
  for (;;) {
    pqxx::work w(conn);
    w.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
    w.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, what TEXT NOT NULL, "
        "applied_at BIGINT NOT NULL)");
    const int current = w.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0].as<int>();
    if (current > latest) refuse_newer_schema("PostgreSQL", current, latest);
    if (current >= target_version) {
      w.commit();
      schema_version_ = current;
      return;
    }
    const MigrationStep& step = steps.at(static_cast<size_t>(current));
    w.exec(step.sql);
    w.exec_params("INSERT INTO schema_migrations (version, what, applied_at) VALUES ($1, $2, $3)",
                  step.version, std::string(step.what), util::now_ms());
    w.commit();
  }
}

// ---- templates ---------------------------------------------------------------

TemplateVersion PostgresStore::save_template(const TemplateVersion& t) {
  util::check_template(t);
  TemplateVersion out = t;
  if (out.id.empty()) out.id = util::random_id();
  return in_transaction("save_template", [&](pqxx::work& w) {
    // Two clients saving the same id would otherwise pick the same version.
    w.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", out.id);
    out.version =
        w.exec_params1("SELECT COALESCE(MAX(version), 0) FROM templates WHERE id = $1", out.id)[0].as<int>() +
        1;
    out.body_json = util::body_with_version(t.body_json, out.version);
    out.created_at = util::now_ms();
    w.exec_params(
        "INSERT INTO templates (id, version, name, description, tags_json, body_json, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        out.id, out.version, out.name, out.description, util::tags_to_json(out.tags), out.body_json,
        out.created_at);
    w.commit();
    return out;
  });
}

std::optional<TemplateVersion> PostgresStore::get_template(const std::string& id,
                                                           std::optional<int> version) {
  util::check_text("template id", id);
  return in_transaction("get_template", [&](pqxx::work& w) -> std::optional<TemplateVersion> {
    const std::string select = std::string("SELECT ") + kTemplateColumns + " FROM templates WHERE id = $1";
    pqxx::result r = version ? w.exec_params(select + " AND version = $2", id, *version)
                             : w.exec_params(select + " ORDER BY version DESC LIMIT 1", id);
    w.commit();
    if (r.empty()) return std::nullopt;
    return read_template(r[0]);
  });
}

std::vector<TemplateVersion> PostgresStore::list_templates() {
  return in_transaction("list_templates", [&](pqxx::work& w) {
    // COLLATE "C": byte order, as SQLite sorts, whatever the database locale.
    pqxx::result r =
        w.exec(std::string("SELECT ") + kTemplateColumns +
               " FROM templates t WHERE version = (SELECT MAX(version) FROM templates WHERE id = t.id) "
               "ORDER BY name COLLATE \"C\", id COLLATE \"C\"");
    w.commit();
    std::vector<TemplateVersion> out;
    for (const auto& row : r) out.push_back(read_template(row));
    return out;
  });
}

std::vector<TemplateVersion> PostgresStore::template_versions(const std::string& id) {
  util::check_text("template id", id);
  return in_transaction("template_versions", [&](pqxx::work& w) {
    pqxx::result r = w.exec_params(
        std::string("SELECT ") + kTemplateColumns + " FROM templates WHERE id = $1 ORDER BY version", id);
    w.commit();
    std::vector<TemplateVersion> out;
    for (const auto& row : r) out.push_back(read_template(row));
    return out;
  });
}

bool PostgresStore::delete_template(const std::string& id) {
  util::check_text("template id", id);
  return in_transaction("delete_template", [&](pqxx::work& w) {
    bool deleted = w.exec_params("DELETE FROM templates WHERE id = $1", id).affected_rows() > 0;
    w.commit();
    return deleted;
  });
}

// ---- conversations -------------------------------------------------------------

Conversation PostgresStore::create_conversation(const Conversation& c) {
  Conversation out = util::new_conversation(c);
  return in_transaction("create_conversation", [&](pqxx::work& w) {
    pqxx::result r = w.exec_params(
        "INSERT INTO conversations (id, title, model, params_json, created_at, updated_at, touch_seq, owner) "
        "VALUES ($1, $2, $3, $4, $5, $5, nextval('conversation_touch_seq'), $6) ON CONFLICT (id) DO NOTHING",
        out.id, out.title, out.model, out.params_json, out.created_at, out.owner);
    if (r.affected_rows() == 0)
      throw Error(ErrorKind::InvalidArgument, "a conversation with id " + out.id + " already exists");
    for (const ChatMessage& m : c.messages) {
      out.messages.push_back(insert_message(w, out.id, m));
      out.updated_at = out.messages.back().created_at;
    }
    out.message_count = static_cast<int>(out.messages.size());
    w.commit();
    return out;
  });
}

ChatMessage PostgresStore::append_message(const std::string& conversation_id, const ChatMessage& m) {
  util::check_text("conversation id", conversation_id);
  util::check_message(m);
  return in_transaction("append_message", [&](pqxx::work& w) {
    ChatMessage out = insert_message(w, conversation_id, m);
    w.commit();
    return out;
  });
}

std::optional<Conversation> PostgresStore::get_conversation(const std::string& id) {
  util::check_text("conversation id", id);
  return in_transaction("get_conversation", [&](pqxx::work& w) -> std::optional<Conversation> {
    pqxx::result head = w.exec_params(
        std::string("SELECT ") + kConversationColumns + " FROM conversations c WHERE c.id = $1 FOR SHARE",
        id);
    if (head.empty()) return std::nullopt;
    Conversation c = read_conversation(head[0]);
    pqxx::result rows = w.exec_params(
        std::string("SELECT ") + kMessageColumns + " FROM messages WHERE conversation_id = $1 ORDER BY id",
        id);
    w.commit();
    for (const auto& row : rows) c.messages.push_back(read_message(row));
    return c;
  });
}

ConversationPage PostgresStore::list_conversations(const ConversationQuery& query) {
  util::check_query(query);
  // The parameters: the search words, then the owner when asked for.
  std::vector<std::string> params = util::search_words(query.search);
  const size_t words = params.size();
  if (query.owner) params.push_back(*query.owner);
  std::string where;
  for (size_t i = 0; i < params.size(); ++i) {
    std::string p(1, '$');  // built in two steps: GCC 12 warns (-Wrestrict) on "$" + to_string
    p += std::to_string(i + 1);
    where += i == 0 ? " WHERE " : " AND ";
    if (i == words) {
      where += "c.owner = " + p;
      continue;
    }
    where += std::string("(strpos(translate(c.title, ") + kFoldFrom + ", " + kFoldTo + "), " + p +
             ") > 0 OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND strpos(translate("
             "m.content, " +
             kFoldFrom + ", " + kFoldTo + "), " + p + ") > 0))";
  }
  const size_t n = params.size();
  return in_transaction("list_conversations", [&](pqxx::work& w) {
    ConversationPage page;
    page.total = w.exec_params("SELECT COUNT(*) FROM conversations c" + where,
                               pqxx::prepare::make_dynamic_params(params))[0][0]
                     .as<int>();
    pqxx::result r = w.exec_params(std::string("SELECT ") + kConversationColumns + " FROM conversations c" +
                                       where + " ORDER BY c.updated_at DESC, c.touch_seq DESC LIMIT $" +
                                       std::to_string(n + 1) + " OFFSET $" + std::to_string(n + 2),
                                   pqxx::prepare::make_dynamic_params(params), query.limit, query.offset);
    w.commit();
    for (const auto& row : r) page.items.push_back(read_conversation(row));
    return page;
  });
}

bool PostgresStore::rename_conversation(const std::string& id, const std::string& title) {
  util::check_text("conversation id", id);
  util::check_text("title", title);
  return in_transaction("rename_conversation", [&](pqxx::work& w) {
    bool renamed =
        w.exec_params("UPDATE conversations SET title = $2 WHERE id = $1", id, title).affected_rows() > 0;
    w.commit();
    return renamed;
  });
}

bool PostgresStore::delete_conversation(const std::string& id) {
  util::check_text("conversation id", id);
  return in_transaction("delete_conversation", [&](pqxx::work& w) {
    bool deleted = w.exec_params("DELETE FROM conversations WHERE id = $1", id).affected_rows() > 0;
    w.commit();
    return deleted;
  });
}

// ---- cache ---------------------------------------------------------------------

std::optional<CacheEntry> PostgresStore::cache_get(const std::string& key, const CacheLimits& limits) {
  util::check_text("cache key", key);
  util::check_cache_limits(limits);
  return in_transaction("cache_get", [&](pqxx::work& w) -> std::optional<CacheEntry> {
    delete_expired(w, limits, util::now_ms());
    pqxx::result r = w.exec_params(
        "UPDATE cache SET hits = hits + 1, used_seq = nextval('cache_use_seq') WHERE key = $1 "
        "RETURNING key, value_json, created_at, hits",
        key);
    w.commit();
    if (r.empty()) return std::nullopt;
    return CacheEntry{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<int64_t>(),
                      r[0][3].as<int64_t>()};
  });
}

void PostgresStore::cache_put(const std::string& key, const std::string& value_json,
                              const CacheLimits& limits) {
  util::check_nonempty_text("cache key", key);
  util::check_text("cache value_json", value_json);
  util::check_cache_limits(limits);
  in_transaction("cache_put", [&](pqxx::work& w) {
    const int64_t now = util::now_ms();
    w.exec_params(
        "INSERT INTO cache (key, value_json, bytes, created_at, used_seq, hits) "
        "VALUES ($1, $2, $3, $4, nextval('cache_use_seq'), 0) ON CONFLICT (key) DO UPDATE SET "
        "value_json = excluded.value_json, bytes = excluded.bytes, created_at = excluded.created_at, "
        "used_seq = excluded.used_seq, hits = 0",
        key, value_json, static_cast<int64_t>(value_json.size()), now);
    delete_expired(w, limits, now);
    if (limits.max_bytes > 0) {
      // Keep the most recently used entries whose running total fits.
      w.exec_params(
          "DELETE FROM cache WHERE key IN (SELECT key FROM (SELECT key, SUM(bytes) OVER (ORDER BY used_seq "
          "DESC "
          "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS kept FROM cache) AS w WHERE w.kept > $1)",
          limits.max_bytes);
    }
    w.commit();
  });
}

void PostgresStore::cache_clear() {
  in_transaction("cache_clear", [&](pqxx::work& w) {
    w.exec("DELETE FROM cache");
    w.commit();
  });
}

int64_t PostgresStore::cache_bytes() {
  return in_transaction("cache_bytes", [&](pqxx::work& w) {
    int64_t bytes = w.exec("SELECT COALESCE(SUM(bytes), 0) FROM cache")[0][0].as<int64_t>();
    w.commit();
    return bytes;
  });
}

// ---- model registry ------------------------------------------------------------

ModelRecord PostgresStore::put_model(const ModelRecord& m) {
  util::check_model(m);
  return in_transaction("put_model", [&](pqxx::work& w) {
    pqxx::result clash =
        w.exec_params("SELECT path = $1 FROM models WHERE (path = $1 OR short_name = $2) AND id != $3",
                      m.path, m.short_name, m.id);
    if (!clash.empty())
      throw Error(ErrorKind::InvalidArgument, clash[0][0].as<bool>()
                                                  ? "a model with path " + m.path + " already exists"
                                                  : "a model named " + m.short_name + " already exists");
    int64_t id = m.id;
    if (id == 0) {
      id =
          w.exec_params1(
               "INSERT INTO models (path, size, mtime, sha256, kind, metadata_json, short_name, split_group, "
               "first_seen) VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6, $7, $8, $9) RETURNING id",
               m.path, m.size, m.mtime, m.sha256, m.kind, m.metadata_json, m.short_name, m.split_group,
               util::now_ms())[0]
              .as<int64_t>();
    } else {
      pqxx::result r = w.exec_params(
          "UPDATE models SET path = $2, size = $3, mtime = $4, sha256 = NULLIF($5, ''), kind = $6, "
          "metadata_json = $7, short_name = $8, split_group = $9 WHERE id = $1",
          id, m.path, m.size, m.mtime, m.sha256, m.kind, m.metadata_json, m.short_name, m.split_group);
      if (r.affected_rows() == 0) throw Error(ErrorKind::NotFound, "no model with id " + std::to_string(id));
    }
    auto out = select_models(w, id);
    w.commit();
    return out.at(0);
  });
}

std::vector<ModelRecord> PostgresStore::list_models() {
  return in_transaction("list_models", [&](pqxx::work& w) {
    auto out = select_models(w, std::nullopt);
    w.commit();
    return out;
  });
}

std::optional<ModelRecord> PostgresStore::get_model(int64_t id) {
  return in_transaction("get_model", [&](pqxx::work& w) -> std::optional<ModelRecord> {
    auto out = select_models(w, id);
    w.commit();
    if (out.empty()) return std::nullopt;
    return out[0];
  });
}

bool PostgresStore::delete_model(int64_t id) {
  return in_transaction("delete_model", [&](pqxx::work& w) {
    bool deleted = w.exec_params("DELETE FROM models WHERE id = $1", id).affected_rows() > 0;
    w.commit();
    return deleted;
  });
}

bool PostgresStore::set_model_sha256(int64_t id, int64_t size, int64_t mtime, const std::string& sha256) {
  util::check_text("model sha256", sha256);
  return in_transaction("set_model_sha256", [&](pqxx::work& w) {
    bool set =
        w.exec_params("UPDATE models SET sha256 = NULLIF($4, '') WHERE id = $1 AND size = $2 AND mtime = $3",
                      id, size, mtime, sha256)
            .affected_rows() > 0;
    w.commit();
    return set;
  });
}

void PostgresStore::set_model_alias(const std::string& alias, int64_t id) {
  util::check_nonempty_text("model alias", alias);
  in_transaction("set_model_alias", [&](pqxx::work& w) {
    require_model(w, id);
    w.exec_params(
        "INSERT INTO model_aliases (alias, model_id) VALUES ($1, $2) ON CONFLICT (alias) DO UPDATE SET "
        "model_id = excluded.model_id",
        alias, id);
    w.commit();
  });
}

bool PostgresStore::remove_model_alias(const std::string& alias) {
  util::check_text("model alias", alias);
  return in_transaction("remove_model_alias", [&](pqxx::work& w) {
    bool removed = w.exec_params("DELETE FROM model_aliases WHERE alias = $1", alias).affected_rows() > 0;
    w.commit();
    return removed;
  });
}

void PostgresStore::add_model_tag(int64_t id, const std::string& tag) {
  util::check_nonempty_text("model tag", tag);
  in_transaction("add_model_tag", [&](pqxx::work& w) {
    require_model(w, id);
    w.exec_params("INSERT INTO model_tags (model_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING", id, tag);
    w.commit();
  });
}

bool PostgresStore::remove_model_tag(int64_t id, const std::string& tag) {
  util::check_text("model tag", tag);
  return in_transaction("remove_model_tag", [&](pqxx::work& w) {
    bool removed =
        w.exec_params("DELETE FROM model_tags WHERE model_id = $1 AND tag = $2", id, tag).affected_rows() > 0;
    w.commit();
    return removed;
  });
}

void PostgresStore::record_model_use(int64_t id, const std::optional<ModelSpeed>& speed) {
  if (speed) util::check_model_speed(*speed);
  in_transaction("record_model_use", [&](pqxx::work& w) {
    const int64_t now = util::now_ms();
    pqxx::result r = w.exec_params(
        "UPDATE models SET use_count = use_count + 1, first_used = COALESCE(first_used, $2), last_used = $2 "
        "WHERE id = $1",
        id, now);
    if (r.affected_rows() == 0) throw Error(ErrorKind::NotFound, "no model with id " + std::to_string(id));
    if (speed) {
      w.exec_params(
          "INSERT INTO model_speeds (model_id, backend, prompt_tps, generation_tps, measured_at) VALUES ($1, "
          "$2, $3, $4, $5)",
          id, speed->backend, speed->prompt_tokens_per_second, speed->generation_tokens_per_second,
          speed->measured_at ? speed->measured_at : now);
      w.exec_params(
          "DELETE FROM model_speeds WHERE model_id = $1 AND backend = $2 AND id NOT IN (SELECT id FROM "
          "model_speeds WHERE model_id = $1 AND backend = $2 ORDER BY id DESC LIMIT $3)",
          id, speed->backend, kModelSpeedsKept);
    }
    w.commit();
  });
}

std::vector<ModelSpeed> PostgresStore::model_speeds(int64_t id) {
  return in_transaction("model_speeds", [&](pqxx::work& w) {
    pqxx::result r = w.exec_params(
        "SELECT backend, prompt_tps, generation_tps, measured_at FROM model_speeds WHERE model_id = $1 "
        "ORDER BY id DESC",
        id);
    w.commit();
    std::vector<ModelSpeed> out;
    for (const auto& row : r)
      out.push_back(
          {row[0].as<std::string>(), row[1].as<double>(), row[2].as<double>(), row[3].as<int64_t>()});
    return out;
  });
}

}  // namespace rmm::store
