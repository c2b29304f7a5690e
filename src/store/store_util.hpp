#pragma once
// What SqlStore checks and computes outside SQL: input checks, ids, clock,
// the search-word split and the JSON columns.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace rmm::store::util {

constexpr int kMaxSearchWords = 32;

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
// Comparisons (the bounds ComparisonStore names). check_comparison_body takes
// the text as stored ("" is not allowed here: new_comparison turns it into {}).
void check_comparison_title(const std::string& title);
void check_comparison_body(const std::string& body_json);
void check_comparison(const Comparison& c);
// `c` checked, with an id (when it has none), "" body_json as {} and both times set to now.
Comparison new_comparison(const Comparison& c);
void check_comparison_query(const ComparisonQuery& q);
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

}  // namespace rmm::store::util
