#pragma once
// Pieces both back ends share so that they behave the same: input checks,
// ids, clock, the search-word split and the JSON columns.
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

// The search string split on ASCII whitespace, each word with ASCII letters
// lowercased (what both back ends compare against ASCII-lowercased text).
std::vector<std::string> search_words(const std::string& search);

// body_json with its "version" set to `version` ("" counts as {}; anything
// but a JSON object is InvalidArgument).
std::string body_with_version(const std::string& body_json, int version);

std::string tags_to_json(const std::vector<std::string>& tags);
std::vector<std::string> tags_from_json(const std::string& json);

}  // namespace rmm::store::util
