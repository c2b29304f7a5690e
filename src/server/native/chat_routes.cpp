#include "server/native/chat_routes.hpp"

#include <cmath>
#include <optional>

#include "core/utf8.hpp"
#include "server/api_error.hpp"
#include "server/chat_recording.hpp"
#include "server/query_string.hpp"
#include "server/request_body.hpp"
#include "server/route_guard.hpp"
#include "serving/chat_export.hpp"
#include "serving/chat_messages.hpp"

namespace rmm::server::native {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using http::status;
using serving::conversation_json;
using serving::conversation_markdown;
using serving::conversation_summary_json;
using serving::export_file_name;
using serving::message_json;

constexpr size_t kMaxTitleBytes = 1000;

[[noreturn]] void bad(const std::string& param, const std::string& message) {
  throw ApiError(status::bad_request, message, param);
}

std::string title_field(const json& body, bool required) {
  const auto it = body.find("title");
  if (it == body.end() || it->is_null()) {
    if (required) bad("title", "'title' is required");
    return "";
  }
  if (!it->is_string()) bad("title", "'title' must be a string");
  const std::string t = it->get<std::string>();
  if (t.find_first_not_of(" \t\r\n") == std::string::npos) bad("title", "'title' must not be empty");
  if (t.size() > kMaxTitleBytes)
    bad("title", "'title' is longer than " + std::to_string(kMaxTitleBytes) + " bytes");
  return t;
}

// "messages[2].role", or "role" for a message that is the whole body.
std::string field_name(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

int count_field(const json& m, const std::string& key, const std::string& where) {
  const auto it = m.find(key);
  if (it == m.end() || it->is_null()) return 0;
  const std::string name = field_name(where, key);
  if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > (1 << 30))
    bad(name, "'" + name + "' must be a non-negative integer");
  return it->get<int>();
}

int64_t message_id(const json& v, const std::string& name);

// One message of a create or append body (`where` "" when it is the whole body).
store::ChatMessage message_from(const json& m, const std::string& where) {
  if (!m.is_object()) bad(where, "'" + where + "' must be an object");
  const auto name = [&](const std::string& key) { return field_name(where, key); };
  store::ChatMessage out;
  const auto role = m.find("role");
  if (role == m.end() || !role->is_string()) bad(name("role"), "'" + name("role") + "' must be a string");
  out.role = role->get<std::string>();
  if (out.role != "system" && out.role != "user" && out.role != "assistant" && out.role != "tool")
    bad(name("role"),
        "'" + name("role") + "' must be system, user, assistant or tool (got '" + out.role + "')");
  const auto content = m.find("content");
  if (content == m.end() || !content->is_string())
    bad(name("content"), "'" + name("content") + "' must be a string");
  out.content = content->get<std::string>();
  if (const auto model = m.find("model"); model != m.end() && !model->is_null()) {
    if (!model->is_string()) bad(name("model"), "'" + name("model") + "' must be a string");
    out.model = model->get<std::string>();
  }
  out.prompt_tokens = count_field(m, "prompt_tokens", where);
  out.completion_tokens = count_field(m, "completion_tokens", where);
  out.timings_json = "{}";
  if (const auto t = m.find("timings"); t != m.end() && !t->is_null()) {
    if (!t->is_object()) bad(name("timings"), "'" + name("timings") + "' must be an object");
    out.timings_json = t->dump();
  }
  if (const auto l = m.find("logprobs"); l != m.end() && !l->is_null()) {
    if (!l->is_array() && !l->is_object())
      bad(name("logprobs"), "'" + name("logprobs") + "' must be a list or an object");
    out.logprobs_json = l->dump();
  }
  if (const auto f = m.find("fork"); f != m.end() && !f->is_null()) {
    const std::string fork = name("fork");
    if (!f->is_object() || !f->contains("of") || !f->contains("at"))
      bad(fork, "'" + fork + "' must be an object {\"of\": MESSAGE_ID, \"at\": TOKEN_INDEX}");
    out.fork_of = message_id((*f)["of"], fork + ".of");
    out.fork_at = count_field(*f, "at", fork);
    if (out.role != "assistant")
      bad(fork, "'" + fork + "' is for assistant messages (an answer forked at a token)");
  }
  return out;
}

std::vector<store::ChatMessage> messages_from(const json& list, const std::string& name) {
  if (!list.is_array()) bad(name, "'" + name + "' must be a list");
  std::vector<store::ChatMessage> out;
  for (size_t i = 0; i < list.size(); ++i)
    out.push_back(message_from(list[i], name + "[" + std::to_string(i) + "]"));
  return out;
}

// A conversation the caller may see: a key other than an admin key sees only
// those its own requests created; others are "not found", as if absent.
store::Conversation existing(store::ChatStore& store, const std::string& id, const access::Principal& who) {
  auto c = store.get_conversation(id);
  if (!c || (!who.sees_all_history() && c->owner != who.owner()))
    throw ApiError(status::not_found, "no conversation '" + id + "'", "id", "invalid_request_error",
                   "conversation_not_found");
  return std::move(*c);
}

// A message id in a body field: a positive integer (a float with no fraction counts).
int64_t message_id(const json& v, const std::string& name) {
  const bool whole = v.is_number_integer() || (v.is_number_float() && std::isfinite(v.get<double>()) &&
                                               std::floor(v.get<double>()) == v.get<double>());
  if (!whole || v.get<double>() < 1 || v.get<double>() > 9.0e18)
    bad(name, "'" + name + "' must be a message id (a positive integer), got " + v.dump());
  return v.is_number_unsigned()  ? static_cast<int64_t>(v.get<uint64_t>())
         : v.is_number_integer() ? v.get<int64_t>()
                                 : static_cast<int64_t>(v.get<double>());
}

// A 400 naming `name` unless `message_id` is a message of `c`.
void require_message(const store::Conversation& c, int64_t message_id, const std::string& name) {
  for (const auto& m : c.messages)
    if (m.id == message_id) return;
  bad(name, "'" + name + "' is not a message of this conversation (got " + std::to_string(message_id) + ")");
}

// Where an append goes: "parent" absent = after the current leaf (nullopt),
// null = a new root (0), else a message of `c`.
std::optional<int64_t> parent_field(const json& body, const store::Conversation& c) {
  const auto it = body.find("parent");
  if (it == body.end()) return std::nullopt;
  if (it->is_null()) return int64_t{0};
  const int64_t id = message_id(*it, "parent");
  require_message(c, id, "parent");
  return id;
}

// The title of a conversation named after its first user message ("" when none gives one).
std::string title_for(const std::vector<store::ChatMessage>& msgs) {
  for (const auto& m : msgs) {
    if (m.role != "user") continue;
    if (std::string t = serving::title_from(m.content); !t.empty()) return t;
  }
  return "";
}

void list(const std::shared_ptr<Exchange>& ex, store::ChatStore& store) {
  const QueryString q(std::string_view(ex->request().target()));
  store::ConversationQuery query;
  query.search = q.get("q").value_or("");
  if (!utf8::is_valid(query.search)) bad("q", "'q' is not valid UTF-8");
  query.limit = static_cast<int>(q.integer("limit", 50, 1, 200));
  query.offset = static_cast<int>(q.integer("offset", 0, 0, 1 << 30));
  if (!ex->principal().sees_all_history()) query.owner = ex->principal().owner();
  const auto page = store.list_conversations(query);
  ojson items = ojson::array();
  for (const auto& c : page.items) items.push_back(conversation_summary_json(c));
  ex->send_ordered_json(status::ok, ojson{{"items", std::move(items)},
                                          {"total", page.total},
                                          {"limit", query.limit},
                                          {"offset", query.offset}});
}

void create(const std::shared_ptr<Exchange>& ex, store::ChatStore& store) {
  const json body = parse_body(*ex);
  store::Conversation c;
  c.owner = ex->principal().owner();
  c.title = title_field(body, false);
  if (auto model = string_field(body, "model")) c.model = *model;
  if (const auto p = body.find("params"); p != body.end() && !p->is_null()) {
    if (!p->is_object()) bad("params", "'params' must be an object");
    c.params_json = p->dump();
  }
  // The messages are a chain (a fork of another conversation's path, say); an
  // untitled conversation is named after its first user message.
  if (const auto m = body.find("messages"); m != body.end() && !m->is_null())
    c.messages = messages_from(*m, "messages");
  for (size_t i = 0; i < c.messages.size(); ++i) {
    if (c.messages[i].fork_of)  // a new conversation has no message to fork from
      bad("messages[" + std::to_string(i) + "].fork", "a new conversation's messages cannot be forks");
  }
  if (c.title.empty()) c.title = title_for(c.messages);
  const auto created = store.create_conversation(c);
  ex->send_ordered_json(status::created, conversation_json(existing(store, created.id, ex->principal())));
}

void append(const std::shared_ptr<Exchange>& ex, store::ChatStore& store) {
  const auto& id = ex->path_params().at(0);
  const json body = parse_body(*ex);
  const auto c = existing(store, id, ex->principal());
  const bool many = body.contains("messages");
  const auto msgs = many ? messages_from(body["messages"], "messages")
                         : std::vector<store::ChatMessage>{message_from(body, "")};
  const std::optional<int64_t> parent = parent_field(body, c);
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (msgs[i].fork_of)
      require_message(c, msgs[i].fork_of, many ? "messages[" + std::to_string(i) + "].fork.of" : "fork.of");
  }
  // A batch is a chain: the first under `parent`, each next under the one before.
  const auto stored = store.append_messages(id, msgs, parent);
  if (c.title.empty()) {
    if (const std::string t = title_for(msgs); !t.empty()) store.rename_conversation(id, t);
  }
  ojson added = ojson::array();
  for (const auto& m : stored) added.push_back(message_json(m));
  const int64_t leaf = stored.empty() ? c.current_leaf : stored.back().id;
  ex->send_ordered_json(status::created, ojson{{"id", id},
                                               {"messages", std::move(added)},
                                               {"current_leaf", leaf == 0 ? ojson(nullptr) : ojson(leaf)}});
}

// PATCH: {title?, current_leaf?}, at least one of them.
void update(const std::shared_ptr<Exchange>& ex, store::ChatStore& store) {
  const auto& id = ex->path_params().at(0);
  const json body = parse_body(*ex);
  const auto leaf_it = body.find("current_leaf");
  const bool set_leaf = leaf_it != body.end();
  const bool set_title = body_field(body, "title") != nullptr;
  if (!set_title && !set_leaf) bad("title", "'title' or 'current_leaf' is required");
  const std::string title = set_title ? title_field(body, true) : "";
  const int64_t leaf = set_leaf ? message_id(*leaf_it, "current_leaf") : 0;
  const auto c = existing(store, id, ex->principal());  // the 404 for a missing one, or another key's
  if (set_leaf) {
    require_message(c, leaf, "current_leaf");
    if (!store.set_current_leaf(id, leaf)) existing(store, id, ex->principal());
  }
  if (set_title && !store.rename_conversation(id, title)) existing(store, id, ex->principal());
  ex->send_ordered_json(status::ok, conversation_summary_json(existing(store, id, ex->principal())));
}

void remove(const std::shared_ptr<Exchange>& ex, store::ChatStore& store) {
  const auto& id = ex->path_params().at(0);
  existing(store, id, ex->principal());
  if (!store.delete_conversation(id)) existing(store, id, ex->principal());
  ex->send_json(status::ok, {{"id", id}, {"deleted", true}});
}

void export_conversation(const std::shared_ptr<Exchange>& ex, store::ChatStore& store) {
  const auto& id = ex->path_params().at(0);
  const QueryString q(std::string_view(ex->request().target()));
  const std::string format = q.get("format").value_or("json");
  if (format != "json" && format != "markdown" && format != "md")
    bad("format", "'format' must be json or markdown (got '" + format + "')");
  const auto c = existing(store, id, ex->principal());
  if (format == "json") {
    const std::string name = export_file_name(c, "json");
    ex->send(status::ok, conversation_json(c).dump(2, ' ', false, ojson::error_handler_t::replace) + "\n",
             "application/json", {{"Content-Disposition", "attachment; filename=\"" + name + "\""}});
  } else {
    const std::string name = export_file_name(c, "md");
    ex->send(status::ok, conversation_markdown(c), "text/markdown; charset=utf-8",
             {{"Content-Disposition", "attachment; filename=\"" + name + "\""}});
  }
}

}  // namespace

void add_chat_routes(Router& router, store::ChatStore& store) {
  auto route = [&router, &store](http::verb verb, const std::string& pattern,
                                 void (*fn)(const std::shared_ptr<Exchange>&, store::ChatStore&)) {
    router.add(verb, pattern,
               guarded_blocking([&store, fn](const std::shared_ptr<Exchange>& ex) { fn(ex, store); }));
  };
  route(http::verb::get, "/api/chat/history", list);
  route(http::verb::post, "/api/chat/history", create);
  route(http::verb::get, "/api/chat/history/{id}",
        [](const std::shared_ptr<Exchange>& ex, store::ChatStore& s) {
          ex->send_ordered_json(status::ok,
                                conversation_json(existing(s, ex->path_params().at(0), ex->principal())));
        });
  route(http::verb::patch, "/api/chat/history/{id}", update);
  route(http::verb::delete_, "/api/chat/history/{id}", remove);
  route(http::verb::post, "/api/chat/history/{id}/messages", append);
  route(http::verb::get, "/api/chat/history/{id}/export", export_conversation);
}

}  // namespace rmm::server::native
