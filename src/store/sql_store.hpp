#pragma once
// The one Store implementation, over a sql::Connection: every statement is
// written once (sql_store.cpp: migrations, templates, chats, cache, models;
// sql_store_comparisons.cpp: saved prompt comparisons;
// sql_store_access.cpp: API keys and the audit log), and what differs
// between SQLite and PostgreSQL comes from the connection's Dialect. Each
// call is one transaction: write transactions for whatever changes rows
// (SQLite takes its write lock up front), read ones for the rest.
#include <memory>
#include <optional>
#include <type_traits>
#include <variant>

#include "store/sql.hpp"
#include "store/store.hpp"
#include "store/store_util.hpp"

namespace rmm::store {

// One list per record type maps the selected columns to its members, giving
// both the SELECT list and the reader of a row.
template <class T>
struct Column {
  const char* sql;  // what is selected
  std::variant<std::string T::*, int T::*, int64_t T::*, std::vector<std::string> T::*> member;
  const char* what = "";  // a JSON list of strings: what it holds (for the error when it is corrupt)
};

template <class T, size_t N>
std::string select_list(const Column<T> (&columns)[N]) {
  std::string out;
  for (const Column<T>& c : columns) {
    if (!out.empty()) out += ", ";
    out += c.sql;
  }
  return out;
}

template <class T, size_t N>
T read_record(const sql::Row& row, const Column<T> (&columns)[N]) {
  T out;
  for (size_t i = 0; i < N; ++i) {
    const int at = static_cast<int>(i);
    const Column<T>& c = columns[i];
    if (const auto* text = std::get_if<std::string T::*>(&c.member)) {
      out.*(*text) = row.text(at);
    } else if (const auto* small = std::get_if<int T::*>(&c.member)) {
      out.*(*small) = static_cast<int>(row.integer(at));
    } else if (const auto* big = std::get_if<int64_t T::*>(&c.member)) {
      out.*(*big) = row.integer(at);
    } else {
      out.*std::get<std::vector<std::string> T::*>(c.member) = util::tags_from_json(row.text(at), c.what);
    }
  }
  return out;
}

template <class T, size_t N>
std::vector<T> read_records(const sql::Result& r, const Column<T> (&columns)[N]) {
  std::vector<T> out;
  out.reserve(r.rows.size());
  for (const sql::Row& row : r.rows) out.push_back(read_record(row, columns));
  return out;
}

class SqlStore final : public Store {
 public:
  // Migrates the database behind `conn` to `target_version` (-1: the latest).
  explicit SqlStore(std::unique_ptr<sql::Connection> conn, int target_version = -1);

  std::string backend() const override { return d_.backend; }
  int schema_version() const override { return schema_version_; }

  TemplateVersion save_template(const TemplateVersion& t) override;
  std::optional<TemplateVersion> get_template(const std::string& id, std::optional<int> version) override;
  std::vector<TemplateVersion> list_templates() override;
  std::vector<TemplateVersion> template_versions(const std::string& id) override;
  bool delete_template(const std::string& id) override;

  Conversation create_conversation(const Conversation& c) override;
  std::vector<ChatMessage> append_messages(const std::string& conversation_id,
                                           const std::vector<ChatMessage>& msgs,
                                           std::optional<int64_t> parent) override;
  std::optional<Conversation> get_conversation(const std::string& id) override;
  ConversationPage list_conversations(const ConversationQuery& q) override;
  bool rename_conversation(const std::string& id, const std::string& title) override;
  bool delete_conversation(const std::string& id) override;
  bool set_current_leaf(const std::string& id, int64_t message_id) override;

  Comparison create_comparison(const Comparison& c) override;
  std::optional<Comparison> get_comparison(const std::string& id) override;
  ComparisonPage list_comparisons(const ComparisonQuery& q) override;
  std::optional<Comparison> update_comparison(const std::string& id, const std::optional<std::string>& title,
                                              const std::optional<std::string>& body_json) override;
  bool delete_comparison(const std::string& id) override;

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
  std::vector<ModelFolder> list_model_folders() override;
  bool add_model_folder(const ModelFolder& f) override;
  bool remove_model_folder(const std::string& path) override;

  ApiKeyRecord create_api_key(const ApiKeyRecord& k) override;
  std::vector<ApiKeyRecord> list_api_keys() override;
  bool revoke_api_key(const std::string& name, int64_t now_ms) override;
  void touch_api_keys(const std::vector<std::pair<int64_t, int64_t>>& last_used) override;

  void append_audit(const std::vector<AuditEntry>& entries) override;
  std::vector<AuditEntry> list_audit(const AuditQuery& q) override;
  int64_t prune_audit(int64_t before_ms) override;

 private:
  // Runs `body(tx)` in one transaction and returns what it returns.
  template <class F>
  auto in_transaction(sql::Connection::Mode mode, const char* what, F&& body) {
    using R = std::invoke_result_t<F&, sql::Tx&>;
    if constexpr (std::is_void_v<R>) {
      conn_->transaction(mode, what, [&](sql::Tx& tx) { body(tx); });
    } else {
      std::optional<R> out;
      conn_->transaction(mode, what, [&](sql::Tx& tx) { out.emplace(body(tx)); });
      return std::move(*out);
    }
  }
  template <class F>
  auto read(const char* what, F&& body) {
    return in_transaction(sql::Connection::Mode::read, what, std::forward<F>(body));
  }
  template <class F>
  auto write(const char* what, F&& body) {
    return in_transaction(sql::Connection::Mode::write, what, std::forward<F>(body));
  }
  // A write of one statement: whether it changed a row.
  bool changed(const char* what, const std::string& sql, const sql::Params& params);

  void migrate(int target_version);
  std::vector<ChatMessage> insert_chain(sql::Tx& tx, const std::string& conversation_id,
                                        const std::vector<ChatMessage>& msgs, std::optional<int64_t> parent);
  std::vector<ModelRecord> select_models(sql::Tx& tx, std::optional<int64_t> id);
  void require_model(sql::Tx& tx, int64_t id);

  std::unique_ptr<sql::Connection> conn_;
  const sql::Dialect& d_;
  int schema_version_ = 0;
};

}  // namespace rmm::store
