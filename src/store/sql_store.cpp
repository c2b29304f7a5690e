#include "store/sql_store.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/migrations.hpp"
#include "store/store_util.hpp"

namespace rmm::store {

using sql::Params;
using sql::Row;
using sql::Tx;

namespace {

const Column<TemplateVersion> kTemplate[] = {
    {"id", &TemplateVersion::id},
    {"version", &TemplateVersion::version},
    {"name", &TemplateVersion::name},
    {"description", &TemplateVersion::description},
    {"tags_json", &TemplateVersion::tags, "template tags"},
    {"body_json", &TemplateVersion::body_json},
    {"created_at", &TemplateVersion::created_at},
};
const Column<Conversation> kConversation[] = {
    {"c.id", &Conversation::id},
    {"c.title", &Conversation::title},
    {"c.model", &Conversation::model},
    {"c.params_json", &Conversation::params_json},
    {"c.created_at", &Conversation::created_at},
    {"c.updated_at", &Conversation::updated_at},
    {"c.message_count", &Conversation::message_count},
    {"c.owner", &Conversation::owner},
    {"COALESCE(c.current_leaf, 0)", &Conversation::current_leaf},
};
const Column<ChatMessage> kMessage[] = {
    {"id", &ChatMessage::id},
    {"COALESCE(parent_id, 0)", &ChatMessage::parent_id},
    {"role", &ChatMessage::role},
    {"content", &ChatMessage::content},
    {"model", &ChatMessage::model},
    {"prompt_tokens", &ChatMessage::prompt_tokens},
    {"completion_tokens", &ChatMessage::completion_tokens},
    {"timings_json", &ChatMessage::timings_json},
    {"logprobs_json", &ChatMessage::logprobs_json},
    {"created_at", &ChatMessage::created_at},
    {"COALESCE(fork_of, 0)", &ChatMessage::fork_of},
    {"COALESCE(fork_at, 0)", &ChatMessage::fork_at},
};
// Aliases and tags come from their own tables (select_models).
const Column<ModelRecord> kModel[] = {
    {"id", &ModelRecord::id},
    {"path", &ModelRecord::path},
    {"size", &ModelRecord::size},
    {"mtime", &ModelRecord::mtime},
    {"COALESCE(sha256, '')", &ModelRecord::sha256},
    {"kind", &ModelRecord::kind},
    {"metadata_json", &ModelRecord::metadata_json},
    {"short_name", &ModelRecord::short_name},
    {"split_group", &ModelRecord::split_group},
    {"first_seen", &ModelRecord::first_seen},
    {"COALESCE(first_used, 0)", &ModelRecord::first_used},
    {"COALESCE(last_used, 0)", &ModelRecord::last_used},
    {"use_count", &ModelRecord::use_count},
};
const std::string kSelectTemplate = std::string("SELECT ") + select_list(kTemplate) + " FROM templates";
const std::string kSelectConversation =
    std::string("SELECT ") + select_list(kConversation) + " FROM conversations c";
const std::string kSelectMessages = std::string("SELECT ") + select_list(kMessage) + " FROM messages";
const std::string kSelectModel = std::string("SELECT ") + select_list(kModel) + " FROM models";

void delete_expired(Tx& tx, const CacheLimits& limits, int64_t now) {
  if (limits.ttl_ms > 0) tx.exec("DELETE FROM cache WHERE created_at < $1", {now - limits.ttl_ms});
}

[[noreturn]] void no_model(int64_t id) {
  throw Error(ErrorKind::NotFound, "no model with id " + std::to_string(id));
}

}  // namespace

SqlStore::SqlStore(std::unique_ptr<sql::Connection> conn, int target_version)
    : conn_(std::move(conn)), d_(conn_->dialect()) {
  migrate(target_version);
}

bool SqlStore::changed(const char* what, const std::string& sql, const Params& params) {
  return write(what, [&](Tx& tx) { return tx.exec(sql, params).affected > 0; });
}

void SqlStore::migrate(int target_version) {
  const auto& steps = d_.migrations();
  const int latest = steps.back().version;
  if (target_version < 0 || target_version > latest) target_version = latest;
  // One step per transaction; another process may be migrating too, so the
  // version is read again under the lock each time.
  for (bool done = false; !done;) {
    done = write("migrating", [&](Tx& tx) {
      if (*d_.migration_lock) tx.exec(d_.migration_lock);
      tx.script(d_.migrations_table);
      const int current = static_cast<int>(
          tx.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").front().integer(0));
      if (current > latest) refuse_newer_schema(d_.title, current, latest);
      if (current >= target_version) {
        schema_version_ = current;
        return true;
      }
      const MigrationStep& step = steps.at(static_cast<size_t>(current));
      tx.script(step.sql);
      tx.exec("INSERT INTO schema_migrations (version, what, applied_at) VALUES ($1, $2, $3)",
              {step.version, step.what, unix_ms()});
      return false;
    });
  }
}

// ---- templates ---------------------------------------------------------------

TemplateVersion SqlStore::save_template(const TemplateVersion& t) {
  util::check_template(t);
  TemplateVersion out = t;
  if (out.id.empty()) out.id = util::random_id();
  return write("save_template", [&](Tx& tx) {
    // Two clients saving the same id would otherwise pick the same version.
    if (*d_.key_lock) tx.exec(d_.key_lock, {out.id});
    const auto latest = tx.exec("SELECT COALESCE(MAX(version), 0) FROM templates WHERE id = $1", {out.id});
    out.version = static_cast<int>(latest.front().integer(0)) + 1;
    out.body_json = util::body_with_version(t.body_json, out.version);
    out.created_at = unix_ms();
    tx.exec(
        "INSERT INTO templates (id, version, name, description, tags_json, body_json, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {out.id, out.version, out.name, out.description, util::tags_to_json(out.tags), out.body_json,
         out.created_at});
    return out;
  });
}

std::optional<TemplateVersion> SqlStore::get_template(const std::string& id, std::optional<int> version) {
  util::check_text("template id", id);
  std::string sql = kSelectTemplate + " WHERE id = $1";
  Params params = {id};
  if (version) {
    sql += " AND version = $2";
    params.emplace_back(*version);
  } else {
    sql += " ORDER BY version DESC LIMIT 1";
  }
  return read("get_template", [&](Tx& tx) -> std::optional<TemplateVersion> {
    const auto r = tx.exec(sql, params);
    if (r.empty()) return std::nullopt;
    return read_record(r.front(), kTemplate);
  });
}

std::vector<TemplateVersion> SqlStore::list_templates() {
  const std::string sql =
      kSelectTemplate +
      " t WHERE version = (SELECT MAX(version) FROM templates WHERE id = t.id) ORDER BY name" +
      d_.byte_order + ", id" + d_.byte_order;
  return read("list_templates", [&](Tx& tx) { return read_records(tx.exec(sql), kTemplate); });
}

std::vector<TemplateVersion> SqlStore::template_versions(const std::string& id) {
  util::check_text("template id", id);
  return read("template_versions", [&](Tx& tx) {
    return read_records(tx.exec(kSelectTemplate + " WHERE id = $1 ORDER BY version", {id}), kTemplate);
  });
}

bool SqlStore::delete_template(const std::string& id) {
  util::check_text("template id", id);
  return changed("delete_template", "DELETE FROM templates WHERE id = $1", {id});
}

// ---- conversations -------------------------------------------------------------

// Appends `msgs` as a chain under `parent` (nullopt: the current leaf) and
// makes the last one the current leaf.
std::vector<ChatMessage> SqlStore::insert_chain(Tx& tx, const std::string& conversation_id,
                                                const std::vector<ChatMessage>& msgs,
                                                std::optional<int64_t> parent) {
  if (parent && *parent < 0)
    throw Error(ErrorKind::InvalidArgument,
                "parent must be a message id or 0, got " + std::to_string(*parent));
  // The row lock (PostgreSQL; SQLite's write transaction holds the database)
  // makes two appends after the current leaf wait for each other, so that the
  // second follows the first.
  const auto head = tx.exec(
      std::string("SELECT COALESCE(current_leaf, 0) FROM conversations WHERE id = $1") + d_.for_update,
      {conversation_id});
  if (head.empty()) throw Error(ErrorKind::NotFound, "no conversation with id " + conversation_id);
  int64_t at = parent ? *parent : head.front().integer(0);
  if (parent && *parent != 0 &&
      tx.exec("SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2", {*parent, conversation_id})
          .empty())
    throw Error(ErrorKind::InvalidArgument,
                "parent " + std::to_string(*parent) + " is not a message of conversation " + conversation_id);
  std::vector<ChatMessage> out;
  out.reserve(msgs.size());
  for (const ChatMessage& m : msgs) {
    ChatMessage& s = out.emplace_back(m);
    s.created_at = unix_ms();
    s.parent_id = at;
    s.id = tx.exec(
                 "INSERT INTO messages (conversation_id, role, content, model, prompt_tokens, "
                 "completion_tokens, timings_json, logprobs_json, created_at, parent_id, fork_of, fork_at) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULLIF(CAST($10 AS BIGINT), 0), "
                 "NULLIF(CAST($11 AS BIGINT), 0), CASE WHEN CAST($11 AS BIGINT) = 0 THEN NULL ELSE CAST($12 "
                 "AS INTEGER) END) "
                 "RETURNING id",
                 {conversation_id, s.role, s.content, s.model, s.prompt_tokens, s.completion_tokens,
                  s.timings_json, s.logprobs_json, s.created_at, s.parent_id, s.fork_of, s.fork_at})
               .front()
               .integer(0);
    at = s.id;
  }
  if (out.empty()) return out;
  tx.exec(
      "UPDATE conversations SET updated_at = $2, message_count = message_count + $3, current_leaf = $4, "
      "touch_seq = " +
          d_.next_in_sequence("conversation_touch_seq", "conversations", "touch_seq") + " WHERE id = $1",
      {conversation_id, out.back().created_at, static_cast<int64_t>(out.size()), at});
  return out;
}

Conversation SqlStore::create_conversation(const Conversation& c) {
  Conversation out = util::new_conversation(c);
  return write("create_conversation", [&](Tx& tx) {
    const auto r = tx.exec(
        "INSERT INTO conversations (id, title, model, params_json, created_at, updated_at, touch_seq, "
        "owner) VALUES ($1, $2, $3, $4, $5, $5, " +
            d_.next_in_sequence("conversation_touch_seq", "conversations", "touch_seq") +
            ", $6) ON CONFLICT (id) DO NOTHING",
        {out.id, out.title, out.model, out.params_json, out.created_at, out.owner});
    if (r.affected == 0)
      throw Error(ErrorKind::InvalidArgument, "a conversation with id " + out.id + " already exists");
    out.messages = insert_chain(tx, out.id, c.messages, int64_t{0});
    if (!out.messages.empty()) {
      out.updated_at = out.messages.back().created_at;
      out.current_leaf = out.messages.back().id;
    }
    out.message_count = static_cast<int>(out.messages.size());
    return out;
  });
}

std::vector<ChatMessage> SqlStore::append_messages(const std::string& conversation_id,
                                                   const std::vector<ChatMessage>& msgs,
                                                   std::optional<int64_t> parent) {
  util::check_text("conversation id", conversation_id);
  for (size_t i = 0; i < msgs.size(); ++i)
    util::check_message(msgs[i],
                        msgs.size() == 1 ? std::string("message") : "messages[" + std::to_string(i) + "]");
  return write("append_messages", [&](Tx& tx) { return insert_chain(tx, conversation_id, msgs, parent); });
}

bool SqlStore::set_current_leaf(const std::string& id, int64_t message_id) {
  util::check_text("conversation id", id);
  return write("set_current_leaf", [&](Tx& tx) {
    if (tx.exec(std::string("SELECT 1 FROM conversations WHERE id = $1") + d_.for_update, {id}).empty())
      return false;
    if (tx.exec("SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2", {message_id, id}).empty())
      throw Error(ErrorKind::InvalidArgument,
                  "current_leaf " + std::to_string(message_id) + " is not a message of conversation " + id);
    tx.exec("UPDATE conversations SET current_leaf = $2 WHERE id = $1", {id, message_id});
    return true;
  });
}

std::optional<Conversation> SqlStore::get_conversation(const std::string& id) {
  util::check_text("conversation id", id);
  return read("get_conversation", [&](Tx& tx) -> std::optional<Conversation> {
    const auto head = tx.exec(kSelectConversation + " WHERE c.id = $1" + d_.for_share, {id});
    if (head.empty()) return std::nullopt;
    Conversation c = read_record(head.front(), kConversation);
    c.messages =
        read_records(tx.exec(kSelectMessages + " WHERE conversation_id = $1 ORDER BY id", {id}), kMessage);
    return c;
  });
}

ConversationPage SqlStore::list_conversations(const ConversationQuery& query) {
  util::check_query(query);
  // The parameters: the search words, then the owner when asked for.
  const std::vector<std::string> words = util::search_words(query.search);
  Params params(words.begin(), words.end());
  if (query.owner) params.emplace_back(*query.owner);
  // Every word must occur in the title or in some message (ASCII letters folded).
  std::string where;
  for (size_t i = 0; i < params.size(); ++i) {
    std::string p(1, '$');  // built in two steps: GCC 12 warns (-Wrestrict) on "$" + to_string
    p += std::to_string(i + 1);
    where += i == 0 ? " WHERE " : " AND ";
    if (i == words.size()) {
      where += "c.owner = " + p;
      continue;
    }
    where += '(';  // appended piece by piece: GCC 12 warns (-Wrestrict) on "(" + string
    where += d_.contains_folded("c.title", p);
    where += " OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND ";
    where += d_.contains_folded("m.content", p) + "))";
  }
  const std::string page_sql =
      kSelectConversation + where + " ORDER BY c.updated_at DESC, c.touch_seq DESC LIMIT $" +
      std::to_string(params.size() + 1) + " OFFSET $" + std::to_string(params.size() + 2);
  return read("list_conversations", [&](Tx& tx) {
    ConversationPage page;
    page.total =
        static_cast<int>(tx.exec("SELECT COUNT(*) FROM conversations c" + where, params).front().integer(0));
    Params paged = params;
    paged.emplace_back(query.limit);
    paged.emplace_back(query.offset);
    page.items = read_records(tx.exec(page_sql, paged), kConversation);
    return page;
  });
}

bool SqlStore::rename_conversation(const std::string& id, const std::string& title) {
  util::check_text("conversation id", id);
  util::check_text("title", title);
  return changed("rename_conversation", "UPDATE conversations SET title = $2 WHERE id = $1", {id, title});
}

bool SqlStore::delete_conversation(const std::string& id) {
  util::check_text("conversation id", id);
  return changed("delete_conversation", "DELETE FROM conversations WHERE id = $1", {id});
}

// ---- cache ---------------------------------------------------------------------

std::optional<CacheEntry> SqlStore::cache_get(const std::string& key, const CacheLimits& limits) {
  util::check_text("cache key", key);
  util::check_cache_limits(limits);
  const std::string sql = "UPDATE cache SET hits = hits + 1, used_seq = " +
                          d_.next_in_sequence("cache_use_seq", "cache", "used_seq") +
                          " WHERE key = $1 RETURNING key, value_json, created_at, hits";
  return write("cache_get", [&](Tx& tx) -> std::optional<CacheEntry> {
    delete_expired(tx, limits, unix_ms());
    const auto r = tx.exec(sql, {key});
    if (r.empty()) return std::nullopt;
    const Row& row = r.front();
    return CacheEntry{row.text(0), row.text(1), row.integer(2), row.integer(3)};
  });
}

void SqlStore::cache_put(const std::string& key, const std::string& value_json, const CacheLimits& limits) {
  util::check_nonempty_text("cache key", key);
  util::check_text("cache value_json", value_json);
  util::check_cache_limits(limits);
  const std::string sql =
      "INSERT INTO cache (key, value_json, bytes, created_at, used_seq, hits) VALUES ($1, $2, $3, $4, " +
      d_.next_in_sequence("cache_use_seq", "cache", "used_seq") +
      ", 0) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json, bytes = excluded.bytes, "
      "created_at = excluded.created_at, used_seq = excluded.used_seq, hits = 0";
  write("cache_put", [&](Tx& tx) {
    const int64_t now = unix_ms();
    tx.exec(sql, {key, value_json, static_cast<int64_t>(value_json.size()), now});
    delete_expired(tx, limits, now);
    if (limits.max_bytes > 0) {
      // Keep the most recently used entries whose running total fits.
      tx.exec(
          "DELETE FROM cache WHERE key IN (SELECT key FROM (SELECT key, SUM(bytes) OVER (ORDER BY used_seq "
          "DESC "
          "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS kept FROM cache) AS w WHERE w.kept > $1)",
          {limits.max_bytes});
    }
  });
}

void SqlStore::cache_clear() {
  write("cache_clear", [&](Tx& tx) { tx.exec("DELETE FROM cache"); });
}

int64_t SqlStore::cache_bytes() {
  return read("cache_bytes", [&](Tx& tx) {
    return tx.exec("SELECT COALESCE(SUM(bytes), 0) FROM cache").front().integer(0);
  });
}

// ---- model registry ------------------------------------------------------------

// Models (all, or the one with `id`) with their aliases and tags.
std::vector<ModelRecord> SqlStore::select_models(Tx& tx, std::optional<int64_t> id) {
  std::vector<ModelRecord> out =
      read_records(id ? tx.exec(kSelectModel + " WHERE id = $1", {*id})
                      : tx.exec(kSelectModel + " ORDER BY short_name" + d_.byte_order),
                   kModel);
  auto attach = [&](const std::string& sql, std::vector<std::string> ModelRecord::*field) {
    for (const Row& row : tx.exec(sql).rows) {
      const int64_t model = row.integer(0);
      for (auto& m : out)
        if (m.id == model) (m.*field).push_back(row.text(1));
    }
  };
  if (!out.empty()) {
    attach(std::string("SELECT model_id, alias FROM model_aliases ORDER BY alias") + d_.byte_order,
           &ModelRecord::aliases);
    attach(std::string("SELECT model_id, tag FROM model_tags ORDER BY tag") + d_.byte_order,
           &ModelRecord::tags);
  }
  return out;
}

void SqlStore::require_model(Tx& tx, int64_t id) {
  if (tx.exec(std::string("SELECT 1 FROM models WHERE id = $1") + d_.for_update, {id}).empty()) no_model(id);
}

ModelRecord SqlStore::put_model(const ModelRecord& m) {
  util::check_model(m);
  return write("put_model", [&](Tx& tx) {
    const auto clash =
        tx.exec("SELECT path = $1 FROM models WHERE (path = $1 OR short_name = $2) AND id != $3",
                {m.path, m.short_name, m.id});
    if (!clash.empty())
      throw Error(ErrorKind::InvalidArgument, clash.front().flag(0)
                                                  ? "a model with path " + m.path + " already exists"
                                                  : "a model named " + m.short_name + " already exists");
    int64_t id = m.id;
    if (id == 0) {
      id = tx.exec(
                 "INSERT INTO models (path, size, mtime, sha256, kind, metadata_json, short_name, "
                 "split_group, "
                 "first_seen) VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6, $7, $8, $9) RETURNING id",
                 {m.path, m.size, m.mtime, m.sha256, m.kind, m.metadata_json, m.short_name, m.split_group,
                  unix_ms()})
               .front()
               .integer(0);
    } else {
      const auto r = tx.exec(
          "UPDATE models SET path = $2, size = $3, mtime = $4, sha256 = NULLIF($5, ''), kind = $6, "
          "metadata_json = $7, short_name = $8, split_group = $9 WHERE id = $1",
          {id, m.path, m.size, m.mtime, m.sha256, m.kind, m.metadata_json, m.short_name, m.split_group});
      if (r.affected == 0) no_model(id);
    }
    return select_models(tx, id).at(0);
  });
}

std::vector<ModelRecord> SqlStore::list_models() {
  return read("list_models", [&](Tx& tx) { return select_models(tx, std::nullopt); });
}

std::optional<ModelRecord> SqlStore::get_model(int64_t id) {
  return read("get_model", [&](Tx& tx) -> std::optional<ModelRecord> {
    auto out = select_models(tx, id);
    if (out.empty()) return std::nullopt;
    return out[0];
  });
}

bool SqlStore::delete_model(int64_t id) {
  return changed("delete_model", "DELETE FROM models WHERE id = $1", {id});
}

bool SqlStore::set_model_sha256(int64_t id, int64_t size, int64_t mtime, const std::string& sha256) {
  util::check_text("model sha256", sha256);
  return changed("set_model_sha256",
                 "UPDATE models SET sha256 = NULLIF($4, '') WHERE id = $1 AND size = $2 AND mtime = $3",
                 {id, size, mtime, sha256});
}

void SqlStore::set_model_alias(const std::string& alias, int64_t id) {
  util::check_nonempty_text("model alias", alias);
  write("set_model_alias", [&](Tx& tx) {
    require_model(tx, id);
    tx.exec(
        "INSERT INTO model_aliases (alias, model_id) VALUES ($1, $2) ON CONFLICT (alias) DO UPDATE SET "
        "model_id = excluded.model_id",
        {alias, id});
  });
}

bool SqlStore::remove_model_alias(const std::string& alias) {
  util::check_text("model alias", alias);
  return changed("remove_model_alias", "DELETE FROM model_aliases WHERE alias = $1", {alias});
}

void SqlStore::add_model_tag(int64_t id, const std::string& tag) {
  util::check_nonempty_text("model tag", tag);
  write("add_model_tag", [&](Tx& tx) {
    require_model(tx, id);
    tx.exec("INSERT INTO model_tags (model_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING", {id, tag});
  });
}

bool SqlStore::remove_model_tag(int64_t id, const std::string& tag) {
  util::check_text("model tag", tag);
  return changed("remove_model_tag", "DELETE FROM model_tags WHERE model_id = $1 AND tag = $2", {id, tag});
}

void SqlStore::record_model_use(int64_t id, const std::optional<ModelSpeed>& speed) {
  if (speed) util::check_model_speed(*speed);
  write("record_model_use", [&](Tx& tx) {
    const int64_t now = unix_ms();
    const auto r = tx.exec(
        "UPDATE models SET use_count = use_count + 1, first_used = COALESCE(first_used, $2), last_used = $2 "
        "WHERE id = $1",
        {id, now});
    if (r.affected == 0) no_model(id);
    if (!speed) return;
    tx.exec(
        "INSERT INTO model_speeds (model_id, backend, prompt_tps, generation_tps, measured_at) VALUES ($1, "
        "$2, "
        "$3, $4, $5)",
        {id, speed->backend, speed->prompt_tokens_per_second, speed->generation_tokens_per_second,
         speed->measured_at ? speed->measured_at : now});
    tx.exec(
        "DELETE FROM model_speeds WHERE model_id = $1 AND backend = $2 AND id NOT IN (SELECT id FROM "
        "model_speeds WHERE model_id = $1 AND backend = $2 ORDER BY id DESC LIMIT $3)",
        {id, speed->backend, kModelSpeedsKept});
  });
}

std::vector<ModelSpeed> SqlStore::model_speeds(int64_t id) {
  return read("model_speeds", [&](Tx& tx) {
    std::vector<ModelSpeed> out;
    for (const Row& row : tx.exec("SELECT backend, prompt_tps, generation_tps, measured_at FROM model_speeds "
                                  "WHERE model_id = $1 ORDER BY id DESC",
                                  {id})
                              .rows)
      out.push_back({row.text(0), row.real(1), row.real(2), row.integer(3)});
    return out;
  });
}

std::vector<ModelFolder> SqlStore::list_model_folders() {
  return read("list_model_folders", [&](Tx& tx) {
    std::vector<ModelFolder> out;
    for (const Row& row :
         tx.exec("SELECT path, added_at FROM model_folders ORDER BY added_at, path", {}).rows)
      out.push_back({row.text(0), row.integer(1)});
    return out;
  });
}

bool SqlStore::add_model_folder(const ModelFolder& f) {
  util::check_nonempty_text("model folder", f.path);
  return changed("add_model_folder",
                 "INSERT INTO model_folders (path, added_at) VALUES ($1, $2) ON CONFLICT (path) DO NOTHING",
                 {f.path, f.added_at ? f.added_at : unix_ms()});
}

bool SqlStore::remove_model_folder(const std::string& path) {
  util::check_text("model folder", path);
  return changed("remove_model_folder", "DELETE FROM model_folders WHERE path = $1", {path});
}

}  // namespace rmm::store
