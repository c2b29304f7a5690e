#include "server/native/prompt_routes.hpp"

#include <charconv>

#include "core/log.hpp"
#include "prompts/catalog.hpp"
#include "prompts/diff.hpp"
#include "prompts/render.hpp"
#include "server/api_error.hpp"
#include "server/openai/completion_routes.hpp"
#include "server/query_string.hpp"
#include "server/request_body.hpp"
#include "server/route_guard.hpp"

namespace rmm::server::native {
namespace {

using json = nlohmann::json;
using http::status;

// Template problems become 400s naming the field or variable.
template <typename F>
auto checked(F&& f) {
  try {
    return f();
  } catch (const prompts::TemplateError& e) {
    throw ApiError(status::bad_request, e.what(), e.field());
  }
}

json template_json(const store::TemplateVersion& v) {
  json j = prompts::to_json(prompts::from_stored(v));
  j["created_at"] = v.created_at;
  return j;
}

// The id in the path; one that cannot be an id names no template.
std::string path_id(const Exchange& ex) {
  const std::string& id = ex.path_params().at(0);
  if (!prompts::is_valid_id(id))
    throw ApiError(status::not_found, "no template '" + id + "'", "id", "invalid_request_error", "not_found");
  return id;
}

std::optional<int> version_param(const QueryString& q, const std::string& name) {
  const auto v = q.get(name);
  if (!v) return std::nullopt;
  int out = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (v->empty() || ec != std::errc() || end != v->data() + v->size() || out < 1)
    throw ApiError(status::bad_request, "'" + name + "' must be a version number (1, 2, ...)", name);
  return out;
}

store::TemplateVersion stored(store::Store& s, const std::string& id, std::optional<int> version = {}) {
  auto v = s.get_template(id, version);
  if (v) return *v;
  if (version && s.get_template(id))
    throw ApiError(status::not_found, "template '" + id + "' has no version " + std::to_string(*version),
                   "version", "invalid_request_error", "not_found");
  throw ApiError(status::not_found, "no template '" + id + "'", "id", "invalid_request_error", "not_found");
}

// {template_id [, version] | template, values} -> the template and its rendering.
std::pair<prompts::Template, prompts::Rendered> build(store::Store& s, const json& body) {
  const bool by_id = body.contains("template_id") && !body["template_id"].is_null();
  const bool inline_t = body.contains("template") && !body["template"].is_null();
  if (by_id == inline_t)
    throw ApiError(status::bad_request, "give either 'template_id' or an inline 'template'", "template_id");
  prompts::Template t;
  if (by_id) {
    if (!body["template_id"].is_string())
      throw ApiError(status::bad_request, "'template_id' must be a string", "template_id");
    std::optional<int> version;
    if (const auto it = body.find("version"); it != body.end() && !it->is_null()) {
      if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > INT32_MAX)
        throw ApiError(status::bad_request, "'version' must be a version number (1, 2, ...)", "version");
      version = it->get<int>();
    }
    const std::string id = body["template_id"];
    if (!prompts::is_valid_id(id))
      throw ApiError(status::not_found, "no template '" + id + "'", "template_id", "invalid_request_error",
                     "not_found");
    t = prompts::from_stored(stored(s, id, version));
  } else {
    t = checked([&] {
      try {
        return prompts::parse_template(body["template"]);
      } catch (const prompts::TemplateError& e) {
        // The field moves under "template."; the message keeps the problem and names the field once.
        std::string problem = e.what();
        if (!e.field().empty() && problem.rfind(e.field() + ": ", 0) == 0)
          problem.erase(0, e.field().size() + 2);
        throw prompts::TemplateError(e.field().empty() ? "template" : "template." + e.field(), problem);
      }
    });
  }
  const json values = body.contains("values") ? body["values"] : json::object();
  auto r = checked([&] { return prompts::render(t, values); });
  return {std::move(t), std::move(r)};
}

// The stored version a save left as it was, marked so that a client can tell.
json unchanged_json(store::Store& s, const prompts::Template& t) {
  json j = template_json(stored(s, t.id, t.version));
  j["unchanged"] = true;
  return j;
}

// POST creates: a name or id that exists is a 409 saying how to add a version
// instead, unless the body says exactly what its latest version says (a
// second import of one file): 200 with that version, nothing added.
void create(const std::shared_ptr<Exchange>& ex, store::Store& s) {
  const json body = parse_body(*ex);
  auto t = checked([&] { return prompts::parse_template(body); });
  if (t.id.empty()) {
    if (const auto named = prompts::find_by_name(s, t.name)) {
      if (prompts::same_content(*named, t)) return ex->send_json(status::ok, unchanged_json(s, *named));
      throw ApiError(status::conflict,
                     "a template named '" + named->name + "' exists (id '" + named->id + "', version " +
                         std::to_string(named->version) + "); PUT /api/prompts/templates/" + named->id +
                         " saves this as its next version, or give it another name",
                     "name", "invalid_request_error", "conflict");
    }
    t.id = prompts::free_id(s, t.name);
  } else if (const auto latest = s.get_template(t.id)) {
    const auto current = prompts::from_stored(*latest);
    if (prompts::same_content(current, t)) return ex->send_json(status::ok, unchanged_json(s, current));
    throw ApiError(
        status::conflict,
        "template '" + t.id + "' exists; PUT /api/prompts/templates/" + t.id + " saves a new version", "id",
        "invalid_request_error", "conflict");
  }
  const auto saved = checked([&] { return prompts::save(s, t); });
  ex->send_json(status::created, template_json(stored(s, saved.id)));
}

// PUT saves a new version, unless nothing changed (200 with the latest, "unchanged": true).
void update(const std::shared_ptr<Exchange>& ex, store::Store& s) {
  const std::string id = path_id(*ex);
  const json body = parse_body(*ex);
  auto t = checked([&] { return prompts::parse_template(body); });
  if (!t.id.empty() && t.id != id)
    throw ApiError(status::bad_request, "the body's id '" + t.id + "' is not the path's '" + id + "'", "id");
  stored(s, id);  // 404 for an unknown id: PUT saves versions, POST creates
  t.id = id;
  const auto out = checked([&] { return prompts::save_if_changed(s, t); });
  if (!out.changed) return ex->send_json(status::ok, unchanged_json(s, out.saved));
  ex->send_json(status::ok, template_json(stored(s, id, out.saved.version)));
}

}  // namespace

void add_prompt_routes(Router& router, serving::ModelHost& host, store::Store& s) {
  if (const int n = prompts::seed_starters(s)) spdlog::debug("prompt templates: added {} starters", n);

  const std::string base = "/api/prompts/templates";
  router.add(http::verb::get, base, guarded_blocking([&s](const std::shared_ptr<Exchange>& ex) {
               json list = json::array();
               for (const auto& v : s.list_templates()) list.push_back(template_json(v));
               ex->send_json(status::ok, {{"templates", std::move(list)}});
             }));
  router.add(http::verb::post, base,
             guarded_blocking([&s](const std::shared_ptr<Exchange>& ex) { create(ex, s); }));
  router.add(http::verb::get, base + "/{id}", guarded_blocking([&s](const std::shared_ptr<Exchange>& ex) {
               const std::string id = path_id(*ex);
               const QueryString q(ex->request().target());
               ex->send_json(status::ok, template_json(stored(s, id, version_param(q, "version"))));
             }));
  router.add(http::verb::put, base + "/{id}",
             guarded_blocking([&s](const std::shared_ptr<Exchange>& ex) { update(ex, s); }));
  router.add(http::verb::delete_, base + "/{id}", guarded_blocking([&s](const std::shared_ptr<Exchange>& ex) {
               const std::string id = path_id(*ex);
               if (!s.delete_template(id))
                 throw ApiError(status::not_found, "no template '" + id + "'", "id", "invalid_request_error",
                                "not_found");
               ex->send_json(status::ok, {{"deleted", id}});
             }));
  router.add(http::verb::get, base + "/{id}/versions",
             guarded_blocking([&s](const std::shared_ptr<Exchange>& ex) {
               const std::string id = path_id(*ex);
               json list = json::array();
               for (const auto& v : s.template_versions(id)) {
                 // The version's note lives in its body (no column of its own).
                 std::string message;
                 try {
                   message = prompts::from_stored(v).message;
                 } catch (const prompts::TemplateError&) {
                 }
                 list.push_back({{"version", v.version},
                                 {"name", v.name},
                                 {"description", v.description},
                                 {"tags", v.tags},
                                 {"message", message},
                                 {"created_at", v.created_at}});
               }
               if (list.empty())
                 throw ApiError(status::not_found, "no template '" + id + "'", "id", "invalid_request_error",
                                "not_found");
               ex->send_json(status::ok, {{"id", id}, {"versions", std::move(list)}});
             }));
  router.add(http::verb::get, base + "/{id}/diff",
             guarded_blocking([&s](const std::shared_ptr<Exchange>& ex) {
               const std::string id = path_id(*ex);
               const QueryString q(ex->request().target());
               const auto latest = stored(s, id);
               const int to = version_param(q, "to").value_or(latest.version);
               const int from = version_param(q, "from").value_or(std::max(1, to - 1));
               const auto a = prompts::from_stored(stored(s, id, from));
               const auto b = prompts::from_stored(stored(s, id, to));
               ex->send_json(status::ok, prompts::diff(a, b));
             }));
  router.add(http::verb::post, "/api/prompts/build",
             guarded_blocking([&s](const std::shared_ptr<Exchange>& ex) {
               const json body = parse_body(*ex);
               const auto [t, r] = build(s, body);
               json out = prompts::to_json(r);
               out["template"] = {{"id", t.id}, {"version", t.version}};
               ex->send_json(status::ok, out);
             }));
  router.add(http::verb::post, "/api/prompts/run", guarded([&s, &host](const std::shared_ptr<Exchange>& ex) {
               const json body = parse_body(*ex);
               const auto [t, r] = build(s, body);
               json chat = prompts::chat_request(r);
               if (auto model = string_field(body, "model")) chat["model"] = *model;
               chat["stream"] = bool_field(body, "stream", true);
               // {"include_usage": true} ends a stream with the token counts, as on /v1.
               if (const auto it = body.find("stream_options"); it != body.end() && !it->is_null())
                 chat["stream_options"] = *it;
               // Output options, not sampling ones (the template's parameters block has those): token
               // probabilities and alternatives for the Prompt Architect's token view.
               for (const char* key : {"logprobs", "top_logprobs"}) {
                 if (const auto it = body.find(key); it != body.end() && !it->is_null()) chat[key] = *it;
               }
               openai::serve_chat_completion(ex, host, chat);
             }));
}

}  // namespace rmm::server::native
