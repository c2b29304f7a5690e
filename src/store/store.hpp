#pragma once
// The storage interfaces, one per domain: Prompt Architect templates (every
// save a new version) and saved comparisons, chat history, the response
// cache, the model registry, API keys and the audit log; Store is all of them. One SQL implementation
// (sql_store.hpp) serves two back ends: SQLite (embedded default,
// $RMM_HOME/rmm.db) and PostgreSQL (shared deployments). Both run versioned
// migrations on open and use parameterized queries only. Every method is safe to call from several threads;
// each call is one transaction, so a killed process leaves either all of it or none. Errors: rmm::Error
// (NotFound for a missing id where noted, InvalidArgument for bad values, Internal for database failures with
// the database's message).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace rmm::store {

// ---- Prompt Architect templates ------------------------------------------
// The template itself is kept as the JSON text the prompts module validated
// ({id, name, description, tags, version, blocks, variables}); the store only
// indexes the columns it lists and searches by.
struct TemplateVersion {
  std::string id;
  int version = 0;  // 1, 2, ... per id
  std::string name;
  std::string description;
  std::vector<std::string> tags;
  std::string body_json;   // the whole template, its "version" field equal to `version`
  int64_t created_at = 0;  // unix ms of this version
};

// ---- Chat history ----------------------------------------------------------
// A conversation is a tree: each message has a parent (0 for a root), so a
// regenerated answer is a sibling of the one it replaces and an edited
// question a sibling of the question. The conversation's current leaf picks
// the branch in view; the path from a root to it is what a chat continues.
struct ChatMessage {
  int64_t id = 0;         // assigned by the store, increasing within a conversation
  int64_t parent_id = 0;  // the message it follows; 0 = a root (assigned by the store on append)
  std::string role;       // system | user | assistant | tool
  std::string content;
  std::string model;      // the model that wrote an assistant message ("" otherwise)
  int prompt_tokens = 0;  // usage of the generation that wrote it
  int completion_tokens = 0;
  std::string timings_json;   // {} or the engine's timings
  std::string logprobs_json;  // "" unless logprobs were kept
  int64_t created_at = 0;     // unix ms
  // An answer forked from another at a token (the token inspector's "continue
  // from this alternative"): the answer it was forked from (0: not a fork) and
  // the position of its first token that differs from that one's.
  int64_t fork_of = 0;
  int fork_at = 0;
};

struct Conversation {
  std::string id;
  std::string title;
  // Who may see it: "" for everyone (no API keys), else the id (decimal) of
  // the API key whose requests created it. Set on create, never changed.
  std::string owner;
  std::string model;
  std::string params_json = "{}";  // sampling parameters of the conversation
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int message_count = 0;              // every message, all branches
  int64_t current_leaf = 0;           // the message the branch in view ends at; 0 = none (no messages)
  std::vector<ChatMessage> messages;  // filled by get_conversation only: all branches, by id
};

// The messages from a root to `c.current_leaf` (the branch in view), oldest
// first; empty when there is no current leaf. Reads c.messages.
std::vector<ChatMessage> current_path(const Conversation& c);
// The same from a root to any message `leaf` (empty when it is not there).
std::vector<ChatMessage> path_to(const Conversation& c, int64_t leaf);

// Search semantics (identical in both back ends): the search string is split
// on ASCII whitespace; a conversation matches when EVERY word occurs as a
// plain substring (no wildcards: % _ \ are ordinary characters) of its title
// or of at least one of its messages' contents. Case-insensitive for ASCII
// letters only (A-Z = a-z; "É" does not match "é"). A scan, fine for
// thousands of conversations. At most 32 words.
struct ConversationQuery {
  std::string search;  // full-text over message contents and titles; "" = all
  // Only conversations with exactly this owner; nullopt = every owner.
  std::optional<std::string> owner;
  int limit = 50;  // 1..200
  int offset = 0;
};

struct ConversationPage {
  std::vector<Conversation> items;  // newest updated first, without messages
  int total = 0;                    // matching conversations in all
};

// ---- Prompt comparisons -------------------------------------------------------
// A Prompt Architect comparison kept to be reopened: one template on up to 4
// models (kind "models") or two template versions over a table of variable
// values (kind "versions"). body_json is the whole comparison as the UI sent
// it (its setup and results: answers, tokens/s, TTFT per cell); the store
// checks it is a bounded JSON object and indexes only the columns here.
// The body: 8 MiB less 64 KiB, so that the record around it (and the
// response head) still fits the 8 MiB a server queues for one response.
inline constexpr size_t kMaxComparisonBodyBytes = (size_t{8} << 20) - (size_t{64} << 10);
inline constexpr size_t kMaxComparisonTitleBytes = 200;
inline constexpr size_t kMaxComparisonTemplateIdBytes = 200;

struct Comparison {
  std::string id;                // 32 lowercase hex digits, assigned by create_comparison when empty
  std::string owner;             // as Conversation::owner: "" or the id of the API key that created it
  std::string title;             // at most kMaxComparisonTitleBytes
  std::string kind;              // models | versions
  std::string template_id;       // "" when none
  std::string body_json = "{}";  // a JSON object; filled by get_comparison and create/update only
  int64_t created_at = 0;        // unix ms
  int64_t updated_at = 0;        // unix ms of the last create or update
};

struct ComparisonQuery {
  // Only comparisons with exactly this owner; nullopt = every owner.
  std::optional<std::string> owner;
  int limit = 50;  // 1..200
  int offset = 0;
};

struct ComparisonPage {
  std::vector<Comparison> items;  // newest created first, body_json empty
  int total = 0;                  // matching comparisons in all
};

// ---- Response cache --------------------------------------------------------
struct CacheEntry {
  std::string key;         // hex sha256 of model hash + rendered prompt + parameters
  std::string value_json;  // the recorded response (tokens with logprobs, usage, finish reason)
  int64_t created_at = 0;  // unix ms
  int64_t hits = 0;
};

struct CacheLimits {
  int64_t ttl_ms = 0;     // entries older than this are gone; 0 = no limit
  int64_t max_bytes = 0;  // total value bytes; least recently used go first; 0 = no limit
};

// ---- Model registry -------------------------------------------------------
// One row per model: a single file or a split group (-00001-of-00003.gguf
// parts) kept under its first part's path. The registry (src/models) decides
// what goes in; the store keeps it and enforces the unique columns.
struct ModelRecord {
  int64_t id = 0;             // assigned by the store
  std::string path;           // absolute; unique
  int64_t size = 0;           // bytes (all parts of a split group)
  int64_t mtime = 0;          // modification time in ns since the epoch (newest part)
  std::string sha256;         // lowercase hex, "" until computed; split groups: one per part, ','-joined
  std::string kind;           // chat | embedding | reranker | mmproj | needs-conversion | invalid
  std::string metadata_json;  // the registry's summary of the GGUF metadata ("{}" when none)
  std::string short_name;     // unique, e.g. "qwen2.5-0.5b-instruct:q4_k_m"
  std::string split_group;    // "" for a single file
  int64_t first_seen = 0;     // unix ms
  int64_t first_used = 0;     // unix ms, 0 = never used
  int64_t last_used = 0;
  int64_t use_count = 0;
  std::vector<std::string> aliases;  // read-only here: set_model_alias changes them
  std::vector<std::string> tags;     // read-only here: add_model_tag / remove_model_tag
};

// Speeds measured in real runs. The store keeps the last kModelSpeedsKept
// measurements per model and backend (older ones are dropped), so a slow
// outlier ages out and callers can average or show the latest.
// A folder the user added to the models folders (rmm models add-folder, POST
// /api/models/folders): scanned as it is, beside the main and configured ones.
struct ModelFolder {
  std::string path;      // absolute, canonical; unique
  int64_t added_at = 0;  // unix ms
};

struct ModelSpeed {
  std::string backend;  // "CPU", "CUDA", ...
  double prompt_tokens_per_second = 0;
  double generation_tokens_per_second = 0;
  int64_t measured_at = 0;  // unix ms
};
inline constexpr int kModelSpeedsKept = 10;

// ---- API keys ---------------------------------------------------------------
// Only a hash of each key is kept (the key itself is shown once, at creation).
// A key's name is unique among keys that are not revoked; a revoked key stays
// listed (with revoked_at) and its name may be given to a new key.
struct ApiKeyRecord {
  int64_t id = 0;                   // assigned by the store
  std::string name;                 // 1..64 of [A-Za-z0-9._-]
  std::string hash;                 // lowercase hex sha256 of the key; unique
  std::string prefix;               // the key's first characters, for lists ("rmm-AbCd")
  std::string scope;                // read | generate | admin
  std::vector<std::string> models;  // glob patterns of model names it may use; empty = all
  // Per-key limits; -1 = the server's default, 0 = unlimited.
  int64_t requests_per_minute = -1;
  int64_t tokens_per_minute = -1;
  int64_t max_streams = -1;
  int64_t created_at = 0;    // unix ms (set by the store when 0)
  int64_t expires_at = 0;    // unix ms; 0 = never
  int64_t last_used_at = 0;  // unix ms; 0 = never
  int64_t revoked_at = 0;    // unix ms; 0 = active
};

// ---- Audit log ---------------------------------------------------------------
struct AuditEntry {
  int64_t id = 0;        // assigned by the store, increasing
  int64_t time = 0;      // unix ms when the request arrived
  std::string key_name;  // "" when the server runs without keys
  std::string client;    // the client's address
  std::string method;    // GET, POST, ... or WS for WebSocket messages
  std::string route;     // the request path
  std::string model;     // "" when none
  int status = 0;        // HTTP status (499: the client went away)
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t duration_ms = 0;
};

struct AuditQuery {
  int64_t since = 0;      // entries with time >= since (unix ms); 0 = all
  std::string key_name;   // "" = every key
  int limit = 100;        // 1..10000 (else InvalidArgument, as ConversationQuery's)
  int64_t before_id = 0;  // > 0: only entries with id < before_id (paging)
};

// The store is split by domain, one interface each, so that what uses only
// one domain (the prompt catalog, the response cache, the registry, the key
// ring, the audit log) and its test doubles need nothing else. Store (below)
// inherits them all; one implementation (SqlStore) serves both back ends.
//
// Conventions of every implementation:
// - Text fields must be valid UTF-8 without NUL bytes, else InvalidArgument
//   naming the field (e.g. "conversation title is not valid UTF-8").
// - Generated ids are 32 lowercase hex digits (128 random bits). A template
//   or conversation given with an empty id gets one.
// - Times are unix milliseconds from the caller's clock.
// - create_conversation also stores c.messages (in order, same transaction)
//   as a chain (the first a root, each the next's parent; their parent_id is
//   ignored), the last one the current leaf; an id that already exists is
//   InvalidArgument. updated_at changes when a
//   message is appended (rename does not touch it); ties in the newest-first
//   order go to the most recently touched.
// - Message roles other than system|user|assistant|tool and negative token
//   counts are InvalidArgument. Other *_json fields are stored verbatim;
//   save_template's body_json must be a JSON object ("" counts as {}).
// - Cache: expired entries (created_at older than ttl_ms) are deleted by
//   cache_get and cache_put; cache_put then drops least recently used entries
//   (a get or put counts as a use) until the total value bytes fit max_bytes,
//   so a value larger than max_bytes is not kept. Replacing a key resets its
//   hits and created_at. An empty key is InvalidArgument.
// - API keys and audit entries: negative times, token counts, durations or
//   statuses and limits below -1 are InvalidArgument, as are more than 64
//   model patterns or an empty one; revoke_api_key needs now_ms > 0.
// - Opening a database whose schema is newer than this binary is BadFile.

class TemplateStore {
 public:
  virtual ~TemplateStore() = default;
  // save_template stores a new version of `t.id` (version and created_at are
  // assigned; body_json's "version" is rewritten to match) and returns it. A
  // new id starts at version 1.
  virtual TemplateVersion save_template(const TemplateVersion& t) = 0;
  // The latest version, or `version` when given; nullopt when missing.
  virtual std::optional<TemplateVersion> get_template(const std::string& id,
                                                      std::optional<int> version = {}) = 0;
  virtual std::vector<TemplateVersion> list_templates() = 0;  // latest of each, by name
  virtual std::vector<TemplateVersion> template_versions(const std::string& id) = 0;  // oldest first
  virtual bool delete_template(const std::string& id) = 0;  // all versions; false when missing
};

class ChatStore {
 public:
  virtual ~ChatStore() = default;
  // create_conversation assigns id (when empty) and times.
  virtual Conversation create_conversation(const Conversation& c) = 0;
  // Appends `msgs` to an existing conversation (NotFound otherwise) as a
  // chain under `parent`: nullopt = after the current leaf (a linear chat),
  // 0 = a new root, else a message of this conversation (InvalidArgument
  // otherwise, as for a negative one). The last one becomes the current leaf;
  // updated_at is bumped. Returns them with id, parent_id and created_at set
  // (m.parent_id is ignored). One transaction: all or none. An empty list
  // changes nothing (the conversation and parent are still checked).
  virtual std::vector<ChatMessage> append_messages(const std::string& conversation_id,
                                                   const std::vector<ChatMessage>& msgs,
                                                   std::optional<int64_t> parent = std::nullopt) = 0;
  ChatMessage append_message(const std::string& conversation_id, const ChatMessage& m,
                             std::optional<int64_t> parent = std::nullopt) {
    return append_messages(conversation_id, {m}, parent).at(0);
  }
  virtual std::optional<Conversation> get_conversation(const std::string& id) = 0;  // with messages
  virtual ConversationPage list_conversations(const ConversationQuery& q) = 0;
  virtual bool rename_conversation(const std::string& id, const std::string& title) = 0;
  // Makes `message_id` the current leaf (any message of the conversation: the
  // path to it is the branch in view; the next plain append follows it).
  // False when there is no such conversation; a message that is not one of
  // its own is InvalidArgument. updated_at is not touched.
  virtual bool set_current_leaf(const std::string& id, int64_t message_id) = 0;
  virtual bool delete_conversation(const std::string& id) = 0;
};

// Comparisons: title at most kMaxComparisonTitleBytes, kind models|versions,
// template_id at most kMaxComparisonTemplateIdBytes, body_json a JSON object
// ("" counts as {}) of at most kMaxComparisonBodyBytes nested at most
// kMaxJsonDepth levels; anything else is InvalidArgument naming the field.
class ComparisonStore {
 public:
  virtual ~ComparisonStore() = default;
  // Stores `c` (id when empty, created_at and updated_at assigned) and returns
  // it; an id that already exists is InvalidArgument.
  virtual Comparison create_comparison(const Comparison& c) = 0;
  virtual std::optional<Comparison> get_comparison(const std::string& id) = 0;  // with body_json
  virtual ComparisonPage list_comparisons(const ComparisonQuery& q) = 0;
  // Replaces the title and/or the body (nullopt keeps it) and sets updated_at;
  // returns the stored comparison, nullopt when there is none.
  virtual std::optional<Comparison> update_comparison(const std::string& id,
                                                      const std::optional<std::string>& title,
                                                      const std::optional<std::string>& body_json) = 0;
  virtual bool delete_comparison(const std::string& id) = 0;  // false when missing
};

class CacheStore {
 public:
  virtual ~CacheStore() = default;
  // cache_get counts a hit and returns nullopt for a missing or expired
  // entry. cache_put replaces an entry with the same key, then trims to the limits.
  virtual std::optional<CacheEntry> cache_get(const std::string& key, const CacheLimits& limits) = 0;
  virtual void cache_put(const std::string& key, const std::string& value_json,
                         const CacheLimits& limits) = 0;
  virtual void cache_clear() = 0;
  virtual int64_t cache_bytes() = 0;
};

class ModelStore {
 public:
  virtual ~ModelStore() = default;
  // put_model inserts a record (id 0; first_seen is set) or replaces the file
  // columns of record `id` (path, size, mtime, sha256, kind, metadata_json,
  // short_name, split_group), keeping its use history, aliases and tags. A
  // path or short name another model has is InvalidArgument. Returns the
  // stored record.
  virtual ModelRecord put_model(const ModelRecord& m) = 0;
  virtual std::vector<ModelRecord> list_models() = 0;  // by short name, with aliases and tags
  virtual std::optional<ModelRecord> get_model(int64_t id) = 0;
  virtual bool delete_model(int64_t id) = 0;  // with its aliases, tags and speeds
  // Stores a computed hash only if the row still has this size and mtime (a
  // file changed while it was hashed keeps no stale hash); false otherwise.
  virtual bool set_model_sha256(int64_t id, int64_t size, int64_t mtime, const std::string& sha256) = 0;
  // Points `alias` at model `id` (moving it from another model); NotFound
  // for a missing model. remove_model_alias: false when the alias is unknown.
  virtual void set_model_alias(const std::string& alias, int64_t id) = 0;
  virtual bool remove_model_alias(const std::string& alias) = 0;
  virtual void add_model_tag(int64_t id, const std::string& tag) = 0;  // NotFound for a missing model
  virtual bool remove_model_tag(int64_t id, const std::string& tag) = 0;
  // Counts a use (use_count, first_used, last_used = now) and, when given,
  // keeps one speed measurement. NotFound for a missing model.
  virtual void record_model_use(int64_t id, const std::optional<ModelSpeed>& speed) = 0;
  virtual std::vector<ModelSpeed> model_speeds(int64_t id) = 0;  // newest first
  // The added folders, oldest first. add: false when the path is already there; remove: false when it
  // was not.
  virtual std::vector<ModelFolder> list_model_folders() = 0;
  virtual bool add_model_folder(const ModelFolder& f) = 0;
  virtual bool remove_model_folder(const std::string& path) = 0;
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  // create_api_key stores `k` (id and, when 0, created_at are assigned) and
  // returns it; a name an active key has, or a hash another key has, is
  // InvalidArgument; a bad name, scope or hash is InvalidArgument.
  virtual ApiKeyRecord create_api_key(const ApiKeyRecord& k) = 0;
  virtual std::vector<ApiKeyRecord> list_api_keys() = 0;  // revoked ones too; by name, then id
  // Marks the active key `name` revoked at `now_ms`; false when there is none.
  virtual bool revoke_api_key(const std::string& name, int64_t now_ms) = 0;
  // Sets last_used_at of each (id, unix ms) pair, in one transaction; unknown ids are skipped.
  // It never moves back (two servers flushing out of order keep the later time).
  virtual void touch_api_keys(const std::vector<std::pair<int64_t, int64_t>>& last_used) = 0;
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;
  // Stores the entries in one transaction (ids assigned); an empty list does
  // nothing. Text is stored as given (the caller bounds its length).
  virtual void append_audit(const std::vector<AuditEntry>& entries) = 0;
  virtual std::vector<AuditEntry> list_audit(const AuditQuery& q) = 0;  // newest first
  // Deletes entries with time < before_ms; returns how many.
  virtual int64_t prune_audit(int64_t before_ms) = 0;
};

// Everything: what open_store returns. A test double derives from the
// domain interfaces it stands in for, not from Store.
class Store : public TemplateStore,
              public ChatStore,
              public ComparisonStore,
              public CacheStore,
              public ModelStore,
              public KeyStore,
              public AuditStore {
 public:
  ~Store() override = default;
  virtual std::string backend() const = 0;  // "sqlite" or "postgres"
  virtual int schema_version() const = 0;
};

// Opens (creating and migrating as needed) the store at `location`: a
// "postgres://" or "postgresql://" URL, or else a SQLite file path. It is
// migrated to `target_version` (-1: the latest; tests pass a lower one to
// build an older database).
std::unique_ptr<Store> open_store(const std::string& location, int target_version = -1);

// $RMM_HOME/rmm.db
std::string default_store_location();

}  // namespace rmm::store
