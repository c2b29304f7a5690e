// SqliteStore's API key and audit log tables (store.hpp: KeyStore, AuditStore).
#include "core/error.hpp"
#include "store/sqlite_store.hpp"
#include "store/store_util.hpp"

namespace rmm::store {

using sqlite::Statement;
using sqlite::Transaction;

ApiKeyRecord SqliteStore::create_api_key(const ApiKeyRecord& k) {
  ApiKeyRecord out = util::new_api_key(k);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  {
    // DO NOTHING on either unique index: the hash, or the name of an active key.
    Statement q(
        db_,
        "INSERT INTO api_keys (name, hash, prefix, scope, models_json, requests_per_minute, "
        "tokens_per_minute, max_streams, created_at, expires_at, last_used_at, revoked_at) VALUES (?1, "
        "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULLIF(?10, 0), NULLIF(?11, 0), NULLIF(?12, 0)) ON CONFLICT DO "
        "NOTHING RETURNING id");
    q.bind(1, out.name)
        .bind(2, out.hash)
        .bind(3, out.prefix)
        .bind(4, out.scope)
        .bind(5, util::tags_to_json(out.models))
        .bind(6, out.requests_per_minute)
        .bind(7, out.tokens_per_minute)
        .bind(8, out.max_streams)
        .bind(9, out.created_at)
        .bind(10, out.expires_at)
        .bind(11, out.last_used_at)
        .bind(12, out.revoked_at);
    if (q.step()) {
      out.id = q.integer(0);
      q.run();
    }
  }
  if (out.id == 0) {
    Statement q(db_,
                "SELECT name = ?1 AND revoked_at IS NULL FROM api_keys WHERE (name = ?1 AND revoked_at IS "
                "NULL) OR hash = ?2 ORDER BY 1 DESC LIMIT 1");
    util::api_key_exists(out, !q.bind(1, out.name).bind(2, out.hash).step() || q.integer(0));
  }
  tx.commit();
  return out;
}

std::vector<ApiKeyRecord> SqliteStore::list_api_keys() {
  std::lock_guard lock(mutex_);
  Statement q(db_, std::string("SELECT ") + util::kApiKeyColumns + " FROM api_keys ORDER BY name, id");
  std::vector<ApiKeyRecord> out;
  while (q.step()) out.push_back(util::read_api_key(q));
  return out;
}

bool SqliteStore::revoke_api_key(const std::string& name, int64_t now_ms) {
  util::check_revoke(name, now_ms);
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  Statement(db_, "UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL")
      .bind(1, name)
      .bind(2, now_ms)
      .run();
  bool revoked = db_.changes() > 0;
  tx.commit();
  return revoked;
}

void SqliteStore::touch_api_keys(const std::vector<std::pair<int64_t, int64_t>>& last_used) {
  for (const auto& [id, ms] : last_used) util::check_api_key_touch(id, ms);
  if (last_used.empty()) return;
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  Statement q(
      db_, "UPDATE api_keys SET last_used_at = NULLIF(MAX(COALESCE(last_used_at, 0), ?2), 0) WHERE id = ?1");
  for (const auto& [id, ms] : last_used) q.reset().bind(1, id).bind(2, ms).run();
  tx.commit();
}

void SqliteStore::append_audit(const std::vector<AuditEntry>& entries) {
  util::check_audit_entries(entries);
  if (entries.empty()) return;
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  Statement q(db_,
              "INSERT INTO audit_log (time, key_name, client, method, route, model, status, prompt_tokens, "
              "completion_tokens, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  for (const AuditEntry& e : entries) {
    q.reset()
        .bind(1, e.time)
        .bind(2, e.key_name)
        .bind(3, e.client)
        .bind(4, e.method)
        .bind(5, e.route)
        .bind(6, e.model)
        .bind(7, int64_t{e.status})
        .bind(8, e.prompt_tokens)
        .bind(9, e.completion_tokens)
        .bind(10, e.duration_ms)
        .run();
  }
  tx.commit();
}

std::vector<AuditEntry> SqliteStore::list_audit(const AuditQuery& query) {
  util::check_audit_query(query);
  std::lock_guard lock(mutex_);
  Statement q(db_, std::string("SELECT ") + util::kAuditColumns + util::audit_query_tail(query, '?'));
  q.bind(1, query.since).bind(2, util::audit_before_id(query)).bind(3, int64_t{query.limit});
  if (!query.key_name.empty()) q.bind(4, query.key_name);
  std::vector<AuditEntry> out;
  while (q.step()) out.push_back(util::read_audit_entry(q));
  return out;
}

int64_t SqliteStore::prune_audit(int64_t before_ms) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_, true);
  Statement(db_, "DELETE FROM audit_log WHERE time < ?1").bind(1, before_ms).run();
  const int64_t deleted = db_.changes();
  tx.commit();
  return deleted;
}

}  // namespace rmm::store
