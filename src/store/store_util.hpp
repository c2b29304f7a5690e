#pragma once
// Pieces both back ends share so that they behave the same: input checks,
// ids, clock, the search-word split, the JSON columns and the API key and
// audit rows (selected with the same columns, mapped by the same code).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace rmm::store::util {

constexpr int kMaxSearchWords = 32;

int64_t now_ms();
std::string random_id();  // 32 lowercase hex digits (128 random bits)

// InvalidArgument naming `field` unless `value` is valid UTF-8 without NUL
// bytes (PostgreSQL text cannot hold NUL, so neither back end accepts it).
void check_text(std::string_view field, std::string_view value);
void check_nonempty_text(std::string_view field, std::string_view value);

void check_template(const TemplateVersion& t);
void check_conversation(const Conversation& c);
// `c` checked, with an id (when it has none), both times set to now and no messages:
// the row every back end inserts for create_conversation (messages are added after).
Conversation new_conversation(const Conversation& c);
void check_message(const ChatMessage& m, std::string_view field = "message");
void check_query(const ConversationQuery& q);
void check_cache_limits(const CacheLimits& limits);
void check_model(const ModelRecord& m);
void check_model_speed(const ModelSpeed& s);
void check_api_key(const ApiKeyRecord& k);
void check_api_key_touch(int64_t id, int64_t last_used_ms);
void check_revoke(const std::string& name, int64_t now_ms);
void check_audit_entries(const std::vector<AuditEntry>& entries);
void check_audit_query(const AuditQuery& q);

// `k` checked, with created_at set to now when it is 0: the row create_api_key inserts.
ApiKeyRecord new_api_key(const ApiKeyRecord& k);
// The InvalidArgument for a key that clashes with a stored one: its name is
// an active key's (`name_taken`) or else its hash is another key's.
[[noreturn]] void api_key_exists(const ApiKeyRecord& k, bool name_taken);

// The search string split on ASCII whitespace, each word with ASCII letters
// lowercased (what both back ends compare against ASCII-lowercased text).
std::vector<std::string> search_words(const std::string& search);

// body_json with its "version" set to `version` ("" counts as {}; anything
// but a JSON object is InvalidArgument).
std::string body_with_version(const std::string& body_json, int version);

// A JSON array of strings (template tags, API key model patterns); reading a
// corrupt one is Internal naming `what`.
std::string tags_to_json(const std::vector<std::string>& tags);
std::vector<std::string> tags_from_json(const std::string& json, std::string_view what = "template tags");

// The columns both back ends select for ApiKeyRecord and AuditEntry (times
// kept as NULL for 0 read back as 0), and the mapping of such a row. `Row`
// has text(column) and integer(column), as sqlite::Statement does.
inline constexpr const char* kApiKeyColumns =
    "id, name, hash, prefix, scope, models_json, requests_per_minute, tokens_per_minute, max_streams, "
    "created_at, COALESCE(expires_at, 0), COALESCE(last_used_at, 0), COALESCE(revoked_at, 0)";
inline constexpr const char* kAuditColumns =
    "id, time, key_name, client, method, route, model, status, prompt_tokens, completion_tokens, duration_ms";
// The WHERE and ORDER of list_audit. Its parameters are numbered and written
// with the back end's marker (`mark`: '?' for SQLite, '$' for PostgreSQL):
// 1 since, 2 before id (INT64_MAX when none), 3 limit and, when q.key_name is set, 4 the key.
std::string audit_query_tail(const AuditQuery& q, char mark);
int64_t audit_before_id(const AuditQuery& q);

template <class Row>
ApiKeyRecord read_api_key(const Row& r) {
  ApiKeyRecord k;
  k.id = r.integer(0);
  k.name = r.text(1);
  k.hash = r.text(2);
  k.prefix = r.text(3);
  k.scope = r.text(4);
  k.models = tags_from_json(r.text(5), "API key models");
  k.requests_per_minute = r.integer(6);
  k.tokens_per_minute = r.integer(7);
  k.max_streams = r.integer(8);
  k.created_at = r.integer(9);
  k.expires_at = r.integer(10);
  k.last_used_at = r.integer(11);
  k.revoked_at = r.integer(12);
  return k;
}

template <class Row>
AuditEntry read_audit_entry(const Row& r) {
  AuditEntry e;
  e.id = r.integer(0);
  e.time = r.integer(1);
  e.key_name = r.text(2);
  e.client = r.text(3);
  e.method = r.text(4);
  e.route = r.text(5);
  e.model = r.text(6);
  e.status = static_cast<int>(r.integer(7));
  e.prompt_tokens = r.integer(8);
  e.completion_tokens = r.integer(9);
  e.duration_ms = r.integer(10);
  return e;
}

}  // namespace rmm::store::util
