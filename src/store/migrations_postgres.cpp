#include "store/migrations.hpp"

namespace rmm::store {

const std::vector<MigrationStep>& postgres_migrations() {
  // Never edit a step once released: add a new one. Sequences order
  // conversations and cache entries by last use across concurrent clients.
  static const std::vector<MigrationStep> steps = {
      {1, "templates, conversations and messages", R"sql(
CREATE TABLE templates (
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  tags_json TEXT NOT NULL,
  body_json TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (id, version)
);
CREATE SEQUENCE conversation_touch_seq;
CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  model TEXT NOT NULL,
  params_json TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  touch_seq BIGINT NOT NULL,
  message_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_recent ON conversations (updated_at DESC, touch_seq DESC);
CREATE TABLE messages (
  id BIGSERIAL PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  model TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  timings_json TEXT NOT NULL,
  logprobs_json TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
)sql"},
      {2, "response cache", R"sql(
CREATE SEQUENCE cache_use_seq;
CREATE TABLE cache (
  key TEXT PRIMARY KEY,
  value_json TEXT NOT NULL,
  bytes BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  used_seq BIGINT NOT NULL,
  hits BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX cache_by_use ON cache (used_seq);
CREATE INDEX cache_by_age ON cache (created_at);
)sql"},
      {3, "model registry", R"sql(
CREATE TABLE models (
  id BIGSERIAL PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  size BIGINT NOT NULL,
  mtime BIGINT NOT NULL,
  sha256 TEXT,
  kind TEXT NOT NULL,
  metadata_json TEXT NOT NULL,
  short_name TEXT NOT NULL UNIQUE,
  split_group TEXT NOT NULL,
  first_seen BIGINT NOT NULL,
  first_used BIGINT,
  last_used BIGINT,
  use_count BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE model_aliases (
  alias TEXT PRIMARY KEY,
  model_id BIGINT NOT NULL REFERENCES models (id) ON DELETE CASCADE
);
CREATE INDEX model_aliases_by_model ON model_aliases (model_id);
CREATE TABLE model_tags (
  model_id BIGINT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (model_id, tag)
);
CREATE TABLE model_speeds (
  id BIGSERIAL PRIMARY KEY,
  model_id BIGINT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  backend TEXT NOT NULL,
  prompt_tps DOUBLE PRECISION NOT NULL,
  generation_tps DOUBLE PRECISION NOT NULL,
  measured_at BIGINT NOT NULL
);
CREATE INDEX model_speeds_by_model ON model_speeds (model_id, backend, id);
)sql"},
      {4, "API keys, audit log and conversation owners", R"sql(
ALTER TABLE conversations ADD COLUMN owner TEXT NOT NULL DEFAULT '';
CREATE INDEX conversations_by_owner ON conversations (owner, updated_at DESC, touch_seq DESC);
CREATE TABLE api_keys (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  scope TEXT NOT NULL,
  models_json TEXT NOT NULL,
  requests_per_minute BIGINT NOT NULL,
  tokens_per_minute BIGINT NOT NULL,
  max_streams BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  last_used_at BIGINT,
  revoked_at BIGINT
);
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
CREATE TABLE audit_log (
  id BIGSERIAL PRIMARY KEY,
  time BIGINT NOT NULL,
  key_name TEXT NOT NULL,
  client TEXT NOT NULL,
  method TEXT NOT NULL,
  route TEXT NOT NULL,
  model TEXT NOT NULL,
  status INTEGER NOT NULL,
  prompt_tokens BIGINT NOT NULL,
  completion_tokens BIGINT NOT NULL,
  duration_ms BIGINT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (time);
CREATE INDEX audit_log_by_key ON audit_log (key_name, time);
)sql"},
      // Conversations become trees: each message names its parent (NULL for a
      // root) and a conversation its current leaf (the branch in view).
      // Existing conversations were linear: each message follows the one
      // before it, and the last is the current leaf.
      {5, "message parents and the current leaf", R"sql(
ALTER TABLE messages ADD COLUMN parent_id BIGINT REFERENCES messages (id) ON DELETE CASCADE;
CREATE INDEX messages_by_parent ON messages (parent_id);
ALTER TABLE conversations ADD COLUMN current_leaf BIGINT;
UPDATE messages SET parent_id = (SELECT MAX(p.id) FROM messages p
  WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id);
UPDATE conversations SET current_leaf = (SELECT MAX(m.id) FROM messages m WHERE m.conversation_id = conversations.id);
)sql"},
      // Folders added as they are (LM Studio's layout, a download folder): scanned beside the main one.
      {6, "added model folders", R"sql(
CREATE TABLE model_folders (
  path TEXT PRIMARY KEY,
  added_at BIGINT NOT NULL
);
)sql"},
      // Answers forked from another at a token: which answer, and the first token that differs.
      {7, "forked answers", R"sql(
ALTER TABLE messages ADD COLUMN fork_of BIGINT REFERENCES messages (id) ON DELETE SET NULL;
ALTER TABLE messages ADD COLUMN fork_at INTEGER;
)sql"},
      // Prompt Architect comparisons kept to be reopened: the UI's whole comparison as JSON, listed newest
      // first (seq breaks ties between comparisons made in the same millisecond).
      {8, "saved prompt comparisons", R"sql(
CREATE SEQUENCE comparison_seq;
CREATE TABLE comparisons (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL,
  kind TEXT NOT NULL,
  template_id TEXT NOT NULL,
  body_json TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  seq BIGINT NOT NULL
);
CREATE INDEX comparisons_recent ON comparisons (created_at DESC, seq DESC);
CREATE INDEX comparisons_by_owner ON comparisons (owner, created_at DESC, seq DESC);
)sql"},
  };
  return steps;
}

}  // namespace rmm::store
