#pragma once
// The embedded back end: one SQLite file in WAL mode (readers never wait for
// the writer), synchronous=NORMAL (a killed process loses nothing committed;
// only a power cut can lose the last transactions), foreign keys on and a
// 5 s busy timeout for other processes holding the write lock.
#include <memory>
#include <mutex>

#include "store/sqlite_db.hpp"
#include "store/store.hpp"

namespace rmm::store {

class SqliteStore : public Store {
 public:
  // Opens or creates `path` and migrates it to `target_version` (-1: the
  // latest; tests pass a lower one to build an older database).
  explicit SqliteStore(const std::string& path, int target_version = -1);

  std::string backend() const override { return "sqlite"; }
  int schema_version() const override { return schema_version_; }

  TemplateVersion save_template(const TemplateVersion& t) override;
  std::optional<TemplateVersion> get_template(const std::string& id, std::optional<int> version) override;
  std::vector<TemplateVersion> list_templates() override;
  std::vector<TemplateVersion> template_versions(const std::string& id) override;
  bool delete_template(const std::string& id) override;

  Conversation create_conversation(const Conversation& c) override;
  ChatMessage append_message(const std::string& conversation_id, const ChatMessage& m) override;
  std::optional<Conversation> get_conversation(const std::string& id) override;
  ConversationPage list_conversations(const ConversationQuery& q) override;
  bool rename_conversation(const std::string& id, const std::string& title) override;
  bool delete_conversation(const std::string& id) override;

  std::optional<CacheEntry> cache_get(const std::string& key, const CacheLimits& limits) override;
  void cache_put(const std::string& key, const std::string& value_json, const CacheLimits& limits) override;
  void cache_clear() override;
  int64_t cache_bytes() override;

  ModelRecord put_model(const ModelRecord& m) override;
  std::vector<ModelRecord> list_models() override;
  std::optional<ModelRecord> get_model(int64_t id) override;
  bool delete_model(int64_t id) override;
  bool set_model_sha256(int64_t id, int64_t size, int64_t mtime, const std::string& sha256) override;
  void set_model_alias(const std::string& alias, int64_t id) override;
  bool remove_model_alias(const std::string& alias) override;
  void add_model_tag(int64_t id, const std::string& tag) override;
  bool remove_model_tag(int64_t id, const std::string& tag) override;
  void record_model_use(int64_t id, const std::optional<ModelSpeed>& speed) override;
  std::vector<ModelSpeed> model_speeds(int64_t id) override;

  ApiKeyRecord create_api_key(const ApiKeyRecord& k) override;
  std::vector<ApiKeyRecord> list_api_keys() override;
  bool revoke_api_key(const std::string& name, int64_t now_ms) override;
  void touch_api_keys(const std::vector<std::pair<int64_t, int64_t>>& last_used) override;

  void append_audit(const std::vector<AuditEntry>& entries) override;
  std::vector<AuditEntry> list_audit(const AuditQuery& q) override;
  int64_t prune_audit(int64_t before_ms) override;

 private:
  void migrate(int target_version);
  ChatMessage insert_message(const std::string& conversation_id, const ChatMessage& m);

  std::mutex mutex_;
  sqlite::Db db_;
  int schema_version_ = 0;
};

}  // namespace rmm::store
