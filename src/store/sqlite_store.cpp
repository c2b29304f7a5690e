#include "store/sqlite_store.hpp"

#include <sqlite3.h>

#include "core/error.hpp"
#include "store/migrations.hpp"
#include "store/store_util.hpp"

namespace rmm::store {

using sqlite::Statement;
using sqlite::Transaction;

namespace {

constexpr const char* kTemplateColumns = "id, version, name, description, tags_json, body_json, created_at";
constexpr const char* kConversationColumns =
    "c.id, c.title, c.model, c.params_json, c.created_at, c.updated_at, c.message_count, c.owner";
constexpr const char* kMessageColumns =
    "id, role, content, model, prompt_tokens, completion_tokens, timings_json, logprobs_json, created_at";

TemplateVersion read_template(const Statement& q) {
  TemplateVersion t;
  t.id = q.text(0);
  t.version = static_cast<int>(q.integer(1));
  t.name = q.text(2);
  t.description = q.text(3);
  t.tags = util::tags_from_json(q.text(4));
  t.body_json = q.text(5);
  t.created_at = q.integer(6);
  return t;
}

Conversation read_conversation(const Statement& q) {
  Conversation c;
  c.id = q.text(0);
  c.title = q.text(1);
  c.model = q.text(2);
  c.params_json = q.text(3);
  c.created_at = q.integer(4);
  c.updated_at = q.integer(5);
  c.message_count = static_cast<int>(q.integer(6));
  c.owner = q.text(7);
  return c;
}

ChatMessage read_message(const Statement& q) {
  ChatMessage m;
  m.id = q.integer(0);
  m.role = q.text(1);
  m.content = q.text(2);
  m.model = q.text(3);
  m.prompt_tokens = static_cast<int>(q.integer(4));
  m.completion_tokens = static_cast<int>(q.integer(5));
  m.timings_json = q.text(6);
  m.logprobs_json = q.text(7);
  m.created_at = q.integer(8);
  return m;
}

void trim_cache(sqlite::Db& db, const CacheLimits& limits, int64_t now) {
  if (limits.ttl_ms > 0)
    Statement(db, "DELETE FROM cache WHERE created_at < ?1").bind(1, now - limits.ttl_ms).run();
  if (limits.max_bytes > 0) {
    // Keep the most recently used entries whose running total fits.
    Statement(db,
              "DELETE FROM cache WHERE key IN (SELECT key FROM (SELECT key, SUM(bytes) OVER (ORDER BY "
              "used_seq DESC "
              "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS kept FROM cache) AS w WHERE w.kept > ?1)")
        .bind(1, limits.max_bytes)
        .run();
  }
}

constexpr const char* kModelColumns =
    "id, path, size, mtime, COALESCE(sha256, ''), kind, metadata_json, short_name, split_group, first_seen, "
    "COALESCE(first_used, 0), COALESCE(last_used, 0), use_count";

// Models (all, or the one with `id`) with their aliases and tags.
std::vector<ModelRecord> select_models(sqlite::Db& db, std::optional<int64_t> id) {
  std::vector<ModelRecord> out;
  {
    Statement q(db, std::string("SELECT ") + kModelColumns + " FROM models" +
                        (id ? " WHERE id = ?1" : " ORDER BY short_name"));
    if (id) q.bind(1, *id);
    while (q.step()) {
      ModelRecord m;
      m.id = q.integer(0);
      m.path = q.text(1);
      m.size = q.integer(2);
      m.mtime = q.integer(3);
      m.sha256 = q.text(4);
      m.kind = q.text(5);
      m.metadata_json = q.text(6);
      m.short_name = q.text(7);
      m.split_group = q.text(8);
      m.first_seen = q.integer(9);
      m.first_used = q.integer(10);
      m.last_used = q.integer(11);
      m.use_count = q.integer(12);
      out.push_back(std::move(m));
    }
  }
  auto attach = [&](const char* sql, std::vector<std::string> ModelRecord::*field) {
    Statement q(db, sql);
    while (q.step()) {
      const int64_t model = q.integer(0);
      for (auto& m : out)
        if (m.id == model) (m.*field).push_back(q.text(1));
    }
  };
  if (!out.empty()) {
    attach("SELECT model_id, alias FROM model_aliases ORDER BY alias", &ModelRecord::aliases);
    attach("SELECT model_id, tag FROM model_tags ORDER BY tag", &ModelRecord::tags);
  }
  return out;
}

void require_model(sqlite::Db& db, int64_t id) {
  Statement q(db, "SELECT 1 FROM models WHERE id = ?1");
  if (!q.bind(1, id).step()) throw Error(ErrorKind::NotFound, "no model with id " + std::to_string(id));
}

}  // namespace

SqliteStore::SqliteStore(const std::string& path, int target_version) : db_(path) {
  sqlite3_busy_timeout(db_.handle(), 5000);
  db_.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  migrate(target_version);
}

void SqliteStore::migrate(int target_version) {
  const auto& steps = sqlite_migrations();
  const int latest = steps.back().version;
  if (target_version < 0 || target_version > latest) target_version = latest;
  db_.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, what TEXT NOT NULL, "
      "applied_at INTEGER NOT NULL)");
  for (;;) {
    // One step per transaction; another process may be migrating too, so the
    // version is read again under the write lock each time.
    Transaction tx(db_, true);
    int current = 0;
    {
      Statement q(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      q.step();
      current = static_cast<int>(q.integer(0));
    }
    if (current > latest) refuse_newer_schema("SQLite", current, latest);
    if (current >= target_version) {
      tx.commit();
      schema_version_ = current;
      return;
    }
    const MigrationStep& step = steps.at(static_cast<size_t>(current));
    db_.exec(step.sql);
    Statement(db_, "INSERT INTO schema_migrations (version, what, applied_at) VALUES (?1, ?2, ?3)")
        .bind(1, int64_t{step.version})
        .bind(2, std::string(step.what))
        .bind(3, util::now_ms())
        .run();
    tx.commit();
  }
}

// ---- templates ---------------------------------------------------------------

TemplateVersion SqliteStore::save_template(const TemplateVersion& t) {
  util::check_template(t);
  TemplateVersion out = t;
  if (out.id.empty()) out.id = util::random_id();
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  {
    Statement q(db_, "SELECT COALESCE(MAX(version), 0) FROM templates WHERE id = ?1");
    q.bind(1, out.id).step();
    out.version = static_cast<int>(q.integer(0)) + 1;
  }
  out.body_json = util::body_with_version(t.body_json, out.version);
  out.created_at = util::now_ms();
  Statement(db_,
            "INSERT INTO templates (id, version, name, description, tags_json, body_json, created_at) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .bind(1, out.id)
      .bind(2, int64_t{out.version})
      .bind(3, out.name)
      .bind(4, out.description)
      .bind(5, util::tags_to_json(out.tags))
      .bind(6, out.body_json)
      .bind(7, out.created_at)
      .run();
  tx.commit();
  return out;
}

std::optional<TemplateVersion> SqliteStore::get_template(const std::string& id, std::optional<int> version) {
  util::check_text("template id", id);
  std::lock_guard lock(mutex_);
  std::string sql = std::string("SELECT ") + kTemplateColumns + " FROM templates WHERE id = ?1";
  sql += version ? " AND version = ?2" : " ORDER BY version DESC LIMIT 1";
  Statement q(db_, sql);
  q.bind(1, id);
  if (version) q.bind(2, int64_t{*version});
  if (!q.step()) return std::nullopt;
  return read_template(q);
}

std::vector<TemplateVersion> SqliteStore::list_templates() {
  std::lock_guard lock(mutex_);
  Statement q(db_,
              std::string("SELECT ") + kTemplateColumns +
                  " FROM templates t WHERE version = (SELECT MAX(version) FROM templates WHERE id = t.id) "
                  "ORDER BY name, id");
  std::vector<TemplateVersion> out;
  while (q.step()) out.push_back(read_template(q));
  return out;
}

std::vector<TemplateVersion> SqliteStore::template_versions(const std::string& id) {
  util::check_text("template id", id);
  std::lock_guard lock(mutex_);
  Statement q(db_,
              std::string("SELECT ") + kTemplateColumns + " FROM templates WHERE id = ?1 ORDER BY version");
  q.bind(1, id);
  std::vector<TemplateVersion> out;
  while (q.step()) out.push_back(read_template(q));
  return out;
}

bool SqliteStore::delete_template(const std::string& id) {
  util::check_text("template id", id);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  Statement(db_, "DELETE FROM templates WHERE id = ?1").bind(1, id).run();
  bool deleted = db_.changes() > 0;
  tx.commit();
  return deleted;
}

// ---- conversations -------------------------------------------------------------

ChatMessage SqliteStore::insert_message(const std::string& conversation_id, const ChatMessage& m) {
  ChatMessage out = m;
  out.created_at = util::now_ms();
  Statement(db_,
            "UPDATE conversations SET updated_at = ?2, message_count = message_count + 1, "
            "touch_seq = (SELECT MAX(touch_seq) + 1 FROM conversations) WHERE id = ?1")
      .bind(1, conversation_id)
      .bind(2, out.created_at)
      .run();
  if (db_.changes() == 0) throw Error(ErrorKind::NotFound, "no conversation with id " + conversation_id);
  Statement(db_,
            "INSERT INTO messages (conversation_id, role, content, model, prompt_tokens, completion_tokens, "
            "timings_json, logprobs_json, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
      .bind(1, conversation_id)
      .bind(2, out.role)
      .bind(3, out.content)
      .bind(4, out.model)
      .bind(5, int64_t{out.prompt_tokens})
      .bind(6, int64_t{out.completion_tokens})
      .bind(7, out.timings_json)
      .bind(8, out.logprobs_json)
      .bind(9, out.created_at)
      .run();
  out.id = db_.last_insert_rowid();
  return out;
}

Conversation SqliteStore::create_conversation(const Conversation& c) {
  Conversation out = util::new_conversation(c);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  {
    Statement q(db_, "SELECT 1 FROM conversations WHERE id = ?1");
    if (q.bind(1, out.id).step())
      throw Error(ErrorKind::InvalidArgument, "a conversation with id " + out.id + " already exists");
  }
  Statement(db_,
            "INSERT INTO conversations (id, title, model, params_json, created_at, updated_at, touch_seq, "
            "owner) VALUES (?1, ?2, ?3, ?4, ?5, ?5, (SELECT COALESCE(MAX(touch_seq), 0) + 1 FROM "
            "conversations), ?6)")
      .bind(1, out.id)
      .bind(2, out.title)
      .bind(3, out.model)
      .bind(4, out.params_json)
      .bind(5, out.created_at)
      .bind(6, out.owner)
      .run();
  for (const ChatMessage& m : c.messages) {
    out.messages.push_back(insert_message(out.id, m));
    out.updated_at = out.messages.back().created_at;
  }
  out.message_count = static_cast<int>(out.messages.size());
  tx.commit();
  return out;
}

ChatMessage SqliteStore::append_message(const std::string& conversation_id, const ChatMessage& m) {
  util::check_text("conversation id", conversation_id);
  util::check_message(m);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  ChatMessage out = insert_message(conversation_id, m);
  tx.commit();
  return out;
}

std::optional<Conversation> SqliteStore::get_conversation(const std::string& id) {
  util::check_text("conversation id", id);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, false);
  std::optional<Conversation> out;
  {
    Statement q(db_, std::string("SELECT ") + kConversationColumns + " FROM conversations c WHERE c.id = ?1");
    if (!q.bind(1, id).step()) return std::nullopt;
    out = read_conversation(q);
  }
  {
    Statement q(db_, std::string("SELECT ") + kMessageColumns +
                         " FROM messages WHERE conversation_id = ?1 ORDER BY id");
    q.bind(1, id);
    while (q.step()) out->messages.push_back(read_message(q));
  }
  tx.commit();
  return out;
}

ConversationPage SqliteStore::list_conversations(const ConversationQuery& query) {
  util::check_query(query);
  // The parameters: the search words, then the owner when asked for.
  std::vector<std::string> params = util::search_words(query.search);
  const size_t words = params.size();
  if (query.owner) params.push_back(*query.owner);
  // Every word must occur in the title or in some message; lower() folds
  // ASCII only, matching the PostgreSQL back end's translate().
  std::string where;
  for (size_t i = 0; i < params.size(); ++i) {
    std::string p(1, '?');  // built in two steps: GCC 12 warns (-Wrestrict) on "?" + to_string
    p += std::to_string(i + 1);
    where += i == 0 ? " WHERE " : " AND ";
    if (i == words) {
      where += "c.owner = " + p;
      continue;
    }
    where += "(instr(lower(c.title), " + p +
             ") > 0 OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND "
             "instr(lower(m.content), " +
             p + ") > 0))";
  }
  const int n = static_cast<int>(params.size());
  std::lock_guard lock(mutex_);
  Transaction tx(db_, false);
  ConversationPage page;
  {
    Statement q(db_, "SELECT COUNT(*) FROM conversations c" + where);
    for (int i = 0; i < n; ++i) q.bind(i + 1, params[static_cast<size_t>(i)]);
    q.step();
    page.total = static_cast<int>(q.integer(0));
  }
  {
    Statement q(db_, std::string("SELECT ") + kConversationColumns + " FROM conversations c" + where +
                         " ORDER BY c.updated_at DESC, c.touch_seq DESC LIMIT ?" + std::to_string(n + 1) +
                         " OFFSET ?" + std::to_string(n + 2));
    for (int i = 0; i < n; ++i) q.bind(i + 1, params[static_cast<size_t>(i)]);
    q.bind(n + 1, int64_t{query.limit}).bind(n + 2, int64_t{query.offset});
    while (q.step()) page.items.push_back(read_conversation(q));
  }
  tx.commit();
  return page;
}

bool SqliteStore::rename_conversation(const std::string& id, const std::string& title) {
  util::check_text("conversation id", id);
  util::check_text("title", title);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  Statement(db_, "UPDATE conversations SET title = ?2 WHERE id = ?1").bind(1, id).bind(2, title).run();
  bool renamed = db_.changes() > 0;
  tx.commit();
  return renamed;
}

bool SqliteStore::delete_conversation(const std::string& id) {
  util::check_text("conversation id", id);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  Statement(db_, "DELETE FROM conversations WHERE id = ?1").bind(1, id).run();
  bool deleted = db_.changes() > 0;
  tx.commit();
  return deleted;
}

// ---- cache ---------------------------------------------------------------------

std::optional<CacheEntry> SqliteStore::cache_get(const std::string& key, const CacheLimits& limits) {
  util::check_text("cache key", key);
  util::check_cache_limits(limits);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  const int64_t now = util::now_ms();
  if (limits.ttl_ms > 0)
    Statement(db_, "DELETE FROM cache WHERE created_at < ?1").bind(1, now - limits.ttl_ms).run();
  std::optional<CacheEntry> out;
  {
    Statement q(
        db_,
        "UPDATE cache SET hits = hits + 1, used_seq = (SELECT MAX(used_seq) + 1 FROM cache) WHERE key = ?1 "
        "RETURNING key, value_json, created_at, hits");
    if (q.bind(1, key).step()) {
      out = CacheEntry{q.text(0), q.text(1), q.integer(2), q.integer(3)};
      q.run();
    }
  }
  tx.commit();
  return out;
}

void SqliteStore::cache_put(const std::string& key, const std::string& value_json,
                            const CacheLimits& limits) {
  util::check_nonempty_text("cache key", key);
  util::check_text("cache value_json", value_json);
  util::check_cache_limits(limits);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  const int64_t now = util::now_ms();
  Statement(db_,
            "INSERT INTO cache (key, value_json, bytes, created_at, used_seq, hits) VALUES (?1, ?2, ?3, ?4, "
            "(SELECT COALESCE(MAX(used_seq), 0) + 1 FROM cache), 0) ON CONFLICT (key) DO UPDATE SET "
            "value_json = excluded.value_json, bytes = excluded.bytes, created_at = excluded.created_at, "
            "used_seq = excluded.used_seq, hits = 0")
      .bind(1, key)
      .bind(2, value_json)
      .bind(3, static_cast<int64_t>(value_json.size()))
      .bind(4, now)
      .run();
  trim_cache(db_, limits, now);
  tx.commit();
}

void SqliteStore::cache_clear() {
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  db_.exec("DELETE FROM cache");
  tx.commit();
}

int64_t SqliteStore::cache_bytes() {
  std::lock_guard lock(mutex_);
  Statement q(db_, "SELECT COALESCE(SUM(bytes), 0) FROM cache");
  q.step();
  return q.integer(0);
}

// ---- model registry ------------------------------------------------------------

ModelRecord SqliteStore::put_model(const ModelRecord& m) {
  util::check_model(m);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  {
    Statement q(db_, "SELECT path = ?1 FROM models WHERE (path = ?1 OR short_name = ?2) AND id != ?3");
    if (q.bind(1, m.path).bind(2, m.short_name).bind(3, m.id).step())
      throw Error(ErrorKind::InvalidArgument, q.integer(0)
                                                  ? "a model with path " + m.path + " already exists"
                                                  : "a model named " + m.short_name + " already exists");
  }
  int64_t id = m.id;
  if (id == 0) {
    Statement(db_,
              "INSERT INTO models (path, size, mtime, sha256, kind, metadata_json, short_name, split_group, "
              "first_seen) VALUES (?1, ?2, ?3, NULLIF(?4, ''), ?5, ?6, ?7, ?8, ?9)")
        .bind(1, m.path)
        .bind(2, m.size)
        .bind(3, m.mtime)
        .bind(4, m.sha256)
        .bind(5, m.kind)
        .bind(6, m.metadata_json)
        .bind(7, m.short_name)
        .bind(8, m.split_group)
        .bind(9, util::now_ms())
        .run();
    id = db_.last_insert_rowid();
  } else {
    Statement(db_,
              "UPDATE models SET path = ?2, size = ?3, mtime = ?4, sha256 = NULLIF(?5, ''), kind = ?6, "
              "metadata_json = ?7, short_name = ?8, split_group = ?9 WHERE id = ?1")
        .bind(1, id)
        .bind(2, m.path)
        .bind(3, m.size)
        .bind(4, m.mtime)
        .bind(5, m.sha256)
        .bind(6, m.kind)
        .bind(7, m.metadata_json)
        .bind(8, m.short_name)
        .bind(9, m.split_group)
        .run();
    if (db_.changes() == 0) throw Error(ErrorKind::NotFound, "no model with id " + std::to_string(id));
  }
  auto out = select_models(db_, id);
  tx.commit();
  return out.at(0);
}

std::vector<ModelRecord> SqliteStore::list_models() {
  std::lock_guard lock(mutex_);
  Transaction tx(db_, false);
  auto out = select_models(db_, std::nullopt);
  tx.commit();
  return out;
}

std::optional<ModelRecord> SqliteStore::get_model(int64_t id) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_, false);
  auto out = select_models(db_, id);
  tx.commit();
  if (out.empty()) return std::nullopt;
  return out[0];
}

bool SqliteStore::delete_model(int64_t id) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  Statement(db_, "DELETE FROM models WHERE id = ?1").bind(1, id).run();
  bool deleted = db_.changes() > 0;
  tx.commit();
  return deleted;
}

bool SqliteStore::set_model_sha256(int64_t id, int64_t size, int64_t mtime, const std::string& sha256) {
  util::check_text("model sha256", sha256);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  Statement(db_, "UPDATE models SET sha256 = NULLIF(?4, '') WHERE id = ?1 AND size = ?2 AND mtime = ?3")
      .bind(1, id)
      .bind(2, size)
      .bind(3, mtime)
      .bind(4, sha256)
      .run();
  bool set = db_.changes() > 0;
  tx.commit();
  return set;
}

void SqliteStore::set_model_alias(const std::string& alias, int64_t id) {
  util::check_nonempty_text("model alias", alias);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  require_model(db_, id);
  Statement(db_,
            "INSERT INTO model_aliases (alias, model_id) VALUES (?1, ?2) ON CONFLICT (alias) DO UPDATE SET "
            "model_id = excluded.model_id")
      .bind(1, alias)
      .bind(2, id)
      .run();
  tx.commit();
}

bool SqliteStore::remove_model_alias(const std::string& alias) {
  util::check_text("model alias", alias);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  Statement(db_, "DELETE FROM model_aliases WHERE alias = ?1").bind(1, alias).run();
  bool removed = db_.changes() > 0;
  tx.commit();
  return removed;
}

void SqliteStore::add_model_tag(int64_t id, const std::string& tag) {
  util::check_nonempty_text("model tag", tag);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  require_model(db_, id);
  Statement(db_, "INSERT INTO model_tags (model_id, tag) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
      .bind(1, id)
      .bind(2, tag)
      .run();
  tx.commit();
}

bool SqliteStore::remove_model_tag(int64_t id, const std::string& tag) {
  util::check_text("model tag", tag);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  Statement(db_, "DELETE FROM model_tags WHERE model_id = ?1 AND tag = ?2").bind(1, id).bind(2, tag).run();
  bool removed = db_.changes() > 0;
  tx.commit();
  return removed;
}

void SqliteStore::record_model_use(int64_t id, const std::optional<ModelSpeed>& speed) {
  if (speed) util::check_model_speed(*speed);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  const int64_t now = util::now_ms();
  Statement(
      db_,
      "UPDATE models SET use_count = use_count + 1, first_used = COALESCE(first_used, ?2), last_used = ?2 "
      "WHERE id = ?1")
      .bind(1, id)
      .bind(2, now)
      .run();
  if (db_.changes() == 0) throw Error(ErrorKind::NotFound, "no model with id " + std::to_string(id));
  if (speed) {
    Statement(db_,
              "INSERT INTO model_speeds (model_id, backend, prompt_tps, generation_tps, measured_at) VALUES "
              "(?1, ?2, ?3, ?4, ?5)")
        .bind(1, id)
        .bind(2, speed->backend)
        .bind_real(3, speed->prompt_tokens_per_second)
        .bind_real(4, speed->generation_tokens_per_second)
        .bind(5, speed->measured_at ? speed->measured_at : now)
        .run();
    Statement(db_,
              "DELETE FROM model_speeds WHERE model_id = ?1 AND backend = ?2 AND id NOT IN (SELECT id FROM "
              "model_speeds WHERE model_id = ?1 AND backend = ?2 ORDER BY id DESC LIMIT ?3)")
        .bind(1, id)
        .bind(2, speed->backend)
        .bind(3, int64_t{kModelSpeedsKept})
        .run();
  }
  tx.commit();
}

std::vector<ModelSpeed> SqliteStore::model_speeds(int64_t id) {
  std::lock_guard lock(mutex_);
  Statement q(db_,
              "SELECT backend, prompt_tps, generation_tps, measured_at FROM model_speeds WHERE model_id = ?1 "
              "ORDER BY id DESC");
  q.bind(1, id);
  std::vector<ModelSpeed> out;
  while (q.step()) out.push_back({q.text(0), q.real(1), q.real(2), q.integer(3)});
  return out;
}

}  // namespace rmm::store
