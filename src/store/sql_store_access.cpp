// SqlStore's API key and audit log tables (store.hpp: KeyStore, AuditStore).
#include <limits>

#include "core/error.hpp"
#include "store/sql_store.hpp"
#include "store/store_util.hpp"

namespace rmm::store {

using sql::Tx;

namespace {

// Times kept as NULL for 0 read back as 0.
const Column<ApiKeyRecord> kApiKey[] = {
    {"id", &ApiKeyRecord::id},
    {"name", &ApiKeyRecord::name},
    {"hash", &ApiKeyRecord::hash},
    {"prefix", &ApiKeyRecord::prefix},
    {"scope", &ApiKeyRecord::scope},
    {"models_json", &ApiKeyRecord::models, "API key models"},
    {"requests_per_minute", &ApiKeyRecord::requests_per_minute},
    {"tokens_per_minute", &ApiKeyRecord::tokens_per_minute},
    {"max_streams", &ApiKeyRecord::max_streams},
    {"created_at", &ApiKeyRecord::created_at},
    {"COALESCE(expires_at, 0)", &ApiKeyRecord::expires_at},
    {"COALESCE(last_used_at, 0)", &ApiKeyRecord::last_used_at},
    {"COALESCE(revoked_at, 0)", &ApiKeyRecord::revoked_at},
};
const Column<AuditEntry> kAudit[] = {
    {"id", &AuditEntry::id},
    {"time", &AuditEntry::time},
    {"key_name", &AuditEntry::key_name},
    {"client", &AuditEntry::client},
    {"method", &AuditEntry::method},
    {"route", &AuditEntry::route},
    {"model", &AuditEntry::model},
    {"status", &AuditEntry::status},
    {"prompt_tokens", &AuditEntry::prompt_tokens},
    {"completion_tokens", &AuditEntry::completion_tokens},
    {"duration_ms", &AuditEntry::duration_ms},
};

}  // namespace

ApiKeyRecord SqlStore::create_api_key(const ApiKeyRecord& k) {
  ApiKeyRecord out = util::new_api_key(k);
  return write("create_api_key", [&](Tx& tx) {
    // DO NOTHING on either unique index: the hash, or the name of an active key.
    // (PostgreSQL infers an uncast NULLIF parameter as a 32-bit integer.)
    const auto r = tx.exec(
        "INSERT INTO api_keys (name, hash, prefix, scope, models_json, requests_per_minute, "
        "tokens_per_minute, max_streams, created_at, expires_at, last_used_at, revoked_at) VALUES ($1, $2, "
        "$3, $4, $5, $6, $7, $8, $9, NULLIF(CAST($10 AS BIGINT), 0), NULLIF(CAST($11 AS BIGINT), 0), "
        "NULLIF(CAST($12 AS BIGINT), 0)) ON CONFLICT DO NOTHING RETURNING id",
        {out.name, out.hash, out.prefix, out.scope, util::tags_to_json(out.models), out.requests_per_minute,
         out.tokens_per_minute, out.max_streams, out.created_at, out.expires_at, out.last_used_at,
         out.revoked_at});
    if (r.empty()) {
      const auto clash = tx.exec(
          "SELECT name = $1 AND revoked_at IS NULL FROM api_keys WHERE (name = $1 AND revoked_at IS NULL) "
          "OR hash = $2 ORDER BY 1 DESC LIMIT 1",
          {out.name, out.hash});
      util::api_key_exists(out, clash.empty() || clash.front().flag(0));
    }
    out.id = r.front().integer(0);
    return out;
  });
}

std::vector<ApiKeyRecord> SqlStore::list_api_keys() {
  const std::string sql =
      std::string("SELECT ") + select_list(kApiKey) + " FROM api_keys ORDER BY name" + d_.byte_order + ", id";
  return read("list_api_keys", [&](Tx& tx) { return read_records(tx.exec(sql), kApiKey); });
}

bool SqlStore::revoke_api_key(const std::string& name, int64_t now_ms) {
  util::check_revoke(name, now_ms);
  return changed("revoke_api_key",
                 "UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
                 {name, now_ms});
}

void SqlStore::touch_api_keys(const std::vector<std::pair<int64_t, int64_t>>& last_used) {
  for (const auto& [id, ms] : last_used) util::check_api_key_touch(id, ms);
  if (last_used.empty()) return;
  write("touch_api_keys", [&](Tx& tx) {
    // The later of the stored time and $2 (a CASE: SQLite has no GREATEST).
    for (const auto& [id, ms] : last_used)
      tx.exec(
          "UPDATE api_keys SET last_used_at = CASE WHEN COALESCE(last_used_at, 0) > CAST($2 AS BIGINT) THEN "
          "last_used_at ELSE NULLIF(CAST($2 AS BIGINT), 0) END WHERE id = $1",
          {id, ms});
  });
}

void SqlStore::append_audit(const std::vector<AuditEntry>& entries) {
  util::check_audit_entries(entries);
  if (entries.empty()) return;
  write("append_audit", [&](Tx& tx) {
    for (const AuditEntry& e : entries)
      tx.exec(
          "INSERT INTO audit_log (time, key_name, client, method, route, model, status, prompt_tokens, "
          "completion_tokens, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
          {e.time, e.key_name, e.client, e.method, e.route, e.model, e.status, e.prompt_tokens,
           e.completion_tokens, e.duration_ms});
  });
}

std::vector<AuditEntry> SqlStore::list_audit(const AuditQuery& query) {
  util::check_audit_query(query);
  std::string sql =
      std::string("SELECT ") + select_list(kAudit) + " FROM audit_log WHERE time >= $1 AND id < $2";
  if (!query.key_name.empty()) sql += " AND key_name = $4";
  sql += " ORDER BY id DESC LIMIT $3";
  sql::Params params = {
      query.since, query.before_id > 0 ? query.before_id : std::numeric_limits<int64_t>::max(), query.limit};
  if (!query.key_name.empty()) params.emplace_back(query.key_name);
  return read("list_audit", [&](Tx& tx) { return read_records(tx.exec(sql, params), kAudit); });
}

int64_t SqlStore::prune_audit(int64_t before_ms) {
  return write("prune_audit", [&](Tx& tx) {
    return tx.exec("DELETE FROM audit_log WHERE time < $1", {before_ms}).affected;
  });
}

}  // namespace rmm::store
