// PostgresStore's API key and audit log tables (store.hpp: KeyStore, AuditStore).
#include "store/postgres_internal.hpp"
#include "store/store_util.hpp"

namespace rmm::store {

using pg::Columns;

ApiKeyRecord PostgresStore::create_api_key(const ApiKeyRecord& k) {
  ApiKeyRecord out = util::new_api_key(k);
  return in_transaction("create_api_key", [&](pqxx::work& w) {
    // DO NOTHING on either unique index: the hash, or the name of an active key.
    pqxx::result r = w.exec_params(
        "INSERT INTO api_keys (name, hash, prefix, scope, models_json, requests_per_minute, "
        "tokens_per_minute, max_streams, created_at, expires_at, last_used_at, revoked_at) VALUES ($1, $2, "
        "$3, $4, $5, $6, $7, $8, $9, NULLIF($10::BIGINT, 0), NULLIF($11::BIGINT, 0), NULLIF($12::BIGINT, 0)) "
        "ON CONFLICT DO NOTHING RETURNING id",
        out.name, out.hash, out.prefix, out.scope, util::tags_to_json(out.models), out.requests_per_minute,
        out.tokens_per_minute, out.max_streams, out.created_at, out.expires_at, out.last_used_at,
        out.revoked_at);
    if (r.empty()) {
      pqxx::result clash = w.exec_params(
          "SELECT name = $1 AND revoked_at IS NULL FROM api_keys WHERE (name = $1 AND revoked_at IS NULL) "
          "OR hash = $2 ORDER BY 1 DESC LIMIT 1",
          out.name, out.hash);
      util::api_key_exists(out, clash.empty() || clash[0][0].as<bool>());
    }
    out.id = r[0][0].as<int64_t>();
    w.commit();
    return out;
  });
}

std::vector<ApiKeyRecord> PostgresStore::list_api_keys() {
  return in_transaction("list_api_keys", [&](pqxx::work& w) {
    pqxx::result r = w.exec(std::string("SELECT ") + util::kApiKeyColumns +
                            " FROM api_keys ORDER BY name COLLATE \"C\", id");
    w.commit();
    std::vector<ApiKeyRecord> out;
    for (const auto& row : r) out.push_back(util::read_api_key(Columns{row}));
    return out;
  });
}

bool PostgresStore::revoke_api_key(const std::string& name, int64_t now_ms) {
  util::check_revoke(name, now_ms);
  return in_transaction("revoke_api_key", [&](pqxx::work& w) {
    bool revoked = w.exec_params("UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
                                 name, now_ms)
                       .affected_rows() > 0;
    w.commit();
    return revoked;
  });
}

void PostgresStore::touch_api_keys(const std::vector<std::pair<int64_t, int64_t>>& last_used) {
  for (const auto& [id, ms] : last_used) util::check_api_key_touch(id, ms);
  if (last_used.empty()) return;
  in_transaction("touch_api_keys", [&](pqxx::work& w) {
    for (const auto& [id, ms] : last_used)
      w.exec_params(
          "UPDATE api_keys SET last_used_at = NULLIF(GREATEST(COALESCE(last_used_at, 0), $2::BIGINT), 0) "
          "WHERE id = $1",
          id, ms);
    w.commit();
  });
}

void PostgresStore::append_audit(const std::vector<AuditEntry>& entries) {
  util::check_audit_entries(entries);
  if (entries.empty()) return;
  in_transaction("append_audit", [&](pqxx::work& w) {
    for (const AuditEntry& e : entries)
      w.exec_params(
          "INSERT INTO audit_log (time, key_name, client, method, route, model, status, prompt_tokens, "
          "completion_tokens, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
          e.time, e.key_name, e.client, e.method, e.route, e.model, e.status, e.prompt_tokens,
          e.completion_tokens, e.duration_ms);
    w.commit();
  });
}

std::vector<AuditEntry> PostgresStore::list_audit(const AuditQuery& query) {
  util::check_audit_query(query);
  const std::string sql = std::string("SELECT ") + util::kAuditColumns + util::audit_query_tail(query, '$');
  const int64_t before = util::audit_before_id(query);
  return in_transaction("list_audit", [&](pqxx::work& w) {
    pqxx::result r = query.key_name.empty()
                         ? w.exec_params(sql, query.since, before, query.limit)
                         : w.exec_params(sql, query.since, before, query.limit, query.key_name);
    w.commit();
    std::vector<AuditEntry> out;
    for (const auto& row : r) out.push_back(util::read_audit_entry(Columns{row}));
    return out;
  });
}

int64_t PostgresStore::prune_audit(int64_t before_ms) {
  return in_transaction("prune_audit", [&](pqxx::work& w) {
    const auto deleted = static_cast<int64_t>(
        w.exec_params("DELETE FROM audit_log WHERE time < $1", before_ms).affected_rows());
    w.commit();
    return deleted;
  });
}

}  // namespace rmm::store
