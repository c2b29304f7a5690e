#pragma once
// The shared back end: PostgreSQL through libpqxx. One connection per store
// behind a mutex (reopened on the next call when it breaks); each call is
// one transaction. Works in whatever schema the URL's search_path selects.
#include <memory>
#include <mutex>

#include "store/store.hpp"

namespace pqxx {
class connection_base;
}  // namespace pqxx

namespace rmm::store {

class PostgresStore : public Store {
 public:
  // Connects to `url` and migrates to `target_version` (-1: the latest).
  explicit PostgresStore(const std::string& url, int target_version = -1);
  ~PostgresStore() override;

  std::string backend() const override { return "postgres"; }
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
  // Runs `body` in one transaction on the (re)opened connection, turning
  // database failures into rmm::Error.
  template <class F>
  auto in_transaction(const char* what, F&& body);
  pqxx::connection_base& connection();
  void migrate(int target_version);

  std::string url_;
  std::mutex mutex_;
  struct Connection;  // the concrete pqxx::connection (its base has no virtual destructor)
  std::unique_ptr<Connection> conn_;
  int schema_version_ = 0;
};

}  // namespace rmm::store
