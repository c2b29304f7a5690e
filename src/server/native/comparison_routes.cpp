#include "server/native/comparison_routes.hpp"

#include "prompts/template.hpp"
#include "server/api_error.hpp"
#include "server/query_string.hpp"
#include "server/request_body.hpp"
#include "server/route_guard.hpp"

namespace rmm::server::native {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using http::status;

[[noreturn]] void not_found(const std::string& id) {
  throw ApiError(status::not_found, "no comparison '" + id + "'", "id", "invalid_request_error",
                 "comparison_not_found");
}

// A comparison the caller may see: a key other than an admin key sees only
// those its own requests saved; others are "not found", as if absent.
store::Comparison existing(store::ComparisonStore& store, const std::string& id,
                           const access::Principal& who) {
  // Ids are 32 lowercase hex digits: anything else names none (and never reaches the store's text checks).
  const bool well_formed = id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
  auto c = well_formed ? store.get_comparison(id) : std::nullopt;
  if (!c || (!who.sees_all_history() && c->owner != who.owner())) not_found(id);
  return std::move(*c);
}

ojson summary_json(const store::Comparison& c) {
  return ojson{{"id", c.id},
               {"title", c.title},
               {"kind", c.kind},
               {"template_id", c.template_id},
               {"created_at", c.created_at},
               {"updated_at", c.updated_at}};
}

// The record with its body: the stored text (a JSON object the store checked)
// spliced in as it is, so that a large body is not parsed again to be sent.
void send_record(Exchange& ex, status code, const store::Comparison& c) {
  std::string out = summary_json(c).dump(-1, ' ', false, ojson::error_handler_t::replace);
  out.pop_back();  // the closing brace
  out += ",\"body\":";
  out += c.body_json.empty() ? "{}" : c.body_json;
  out += '}';
  ex.send(code, out);
}

std::string title_field(const json& body) {
  const auto title = string_field(body, "title");
  if (!title) return "";
  if (title->size() > store::kMaxComparisonTitleBytes)
    bad_request("title",
                "'title' is longer than " + std::to_string(store::kMaxComparisonTitleBytes) + " bytes");
  return *title;
}

// "body": a JSON object, as the text to store; larger than the store keeps is a 413.
std::string body_field_text(const json& body) {
  const json* b = body_field(body, "body");
  if (!b) bad_request("body", "'body' is required (the comparison as a JSON object)");
  if (!b->is_object()) bad_request("body", "'body' must be a JSON object");
  std::string text = b->dump(-1, ' ', false, json::error_handler_t::strict);
  if (text.size() > store::kMaxComparisonBodyBytes)
    throw ApiError(status::payload_too_large,
                   "'body' is " + std::to_string(text.size()) + " bytes as JSON; at most " +
                       std::to_string(store::kMaxComparisonBodyBytes) + " are kept",
                   "body");
  return text;
}

void list(const std::shared_ptr<Exchange>& ex, store::ComparisonStore& store) {
  const QueryString q(std::string_view(ex->request().target()));
  store::ComparisonQuery query;
  query.limit = static_cast<int>(q.integer("limit", 50, 1, 200));
  query.offset = static_cast<int>(q.integer("offset", 0, 0, 1 << 30));
  if (!ex->principal().sees_all_history()) query.owner = ex->principal().owner();
  const auto page = store.list_comparisons(query);
  ojson items = ojson::array();
  for (const auto& c : page.items) items.push_back(summary_json(c));
  ex->send_ordered_json(status::ok, ojson{{"items", std::move(items)},
                                          {"total", page.total},
                                          {"limit", query.limit},
                                          {"offset", query.offset}});
}

void create(const std::shared_ptr<Exchange>& ex, store::ComparisonStore& store) {
  const json body = parse_body(*ex);
  store::Comparison c;
  c.owner = ex->principal().owner();
  c.title = title_field(body);
  const auto kind = string_field(body, "kind");
  if (!kind) bad_request("kind", "'kind' is required: models or versions");
  if (*kind != "models" && *kind != "versions")
    bad_request("kind", "'kind' must be models or versions (got '" + *kind + "')");
  c.kind = *kind;
  if (auto t = string_field(body, "template_id")) {
    if (!t->empty() && !prompts::is_valid_id(*t))
      bad_request("template_id", "'template_id' is not a template id (got '" + *t + "')");
    c.template_id = std::move(*t);
  }
  c.body_json = body_field_text(body);
  send_record(*ex, status::created, store.create_comparison(c));
}

void get(const std::shared_ptr<Exchange>& ex, store::ComparisonStore& store) {
  send_record(*ex, status::ok, existing(store, ex->path_params().at(0), ex->principal()));
}

// PATCH: {title?, body?}, at least one of them; other fields are ignored.
void update(const std::shared_ptr<Exchange>& ex, store::ComparisonStore& store) {
  const auto& id = ex->path_params().at(0);
  const json body = parse_body(*ex);
  std::optional<std::string> title, text;
  if (body_field(body, "title")) title = title_field(body);
  if (body_field(body, "body")) text = body_field_text(body);
  if (!title && !text) bad_request("body", "'title' or 'body' is required");
  existing(store, id, ex->principal());  // the 404 for a missing one, or another key's
  auto updated = store.update_comparison(id, title, text);
  if (!updated) not_found(id);  // deleted meanwhile
  send_record(*ex, status::ok, *updated);
}

void remove(const std::shared_ptr<Exchange>& ex, store::ComparisonStore& store) {
  const auto& id = ex->path_params().at(0);
  existing(store, id, ex->principal());
  if (!store.delete_comparison(id)) not_found(id);
  ex->send_ordered_json(status::ok, ojson{{"id", id}, {"deleted", true}});
}

}  // namespace

void add_comparison_routes(Router& router, store::ComparisonStore& store) {
  auto route = [&router, &store](http::verb verb, const std::string& pattern,
                                 void (*fn)(const std::shared_ptr<Exchange>&, store::ComparisonStore&)) {
    router.add(verb, pattern,
               guarded_blocking([&store, fn](const std::shared_ptr<Exchange>& ex) { fn(ex, store); }));
  };
  const std::string base = "/api/prompts/comparisons";
  route(http::verb::get, base, list);
  route(http::verb::post, base, create);
  route(http::verb::get, base + "/{id}", get);
  route(http::verb::patch, base + "/{id}", update);
  route(http::verb::delete_, base + "/{id}", remove);
}

}  // namespace rmm::server::native
