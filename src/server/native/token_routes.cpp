#include "server/native/token_routes.hpp"

#include "core/utf8.hpp"
#include "server/api_error.hpp"
#include "server/request_body.hpp"
#include "server/route_guard.hpp"

namespace rmm::server::native {
namespace {

using json = nlohmann::json;
using http::status;

// The model named by the body's optional "model" (when absent, the one named
// at start or else the only loaded one). Never loads.
std::shared_ptr<serving::HostedModel> loaded_model(serving::ModelHost& host, const json& body) {
  const std::string id = string_field(body, "model").value_or("");
  if (auto m = host.find(id)) return m;
  std::string why = id.empty() ? host.no_model_reason() : "model '" + id + "' is not loaded";
  if (why.empty()) why = "the model named at start is not loaded now (a generation loads it again)";
  throw ApiError(status::not_found, why, "model", "invalid_request_error", "model_not_found");
}

void tokenize(const std::shared_ptr<Exchange>& ex, serving::ModelHost& host) {
  const json body = parse_body(*ex);
  auto m = loaded_model(host, body);
  const auto it = body.find("content");
  if (it == body.end() || !it->is_string())
    throw ApiError(status::bad_request, "'content' must be a string", "content");
  const bool add_special = bool_field(body, "add_special", false);
  const bool parse_special = bool_field(body, "parse_special", true);
  const bool with_pieces = bool_field(body, "with_pieces", false);
  const auto ids = m->model->tokenize(it->get<std::string>(), add_special, parse_special);
  json tokens = json::array();
  for (const auto id : ids) {
    if (with_pieces) {
      // A piece may be part of a UTF-8 character: its bytes go as a list then.
      const std::string piece = m->model->piece(id, true);
      json p = {{"id", id}};
      if (utf8::is_valid(piece)) {
        p["piece"] = piece;
      } else {
        p["piece"] = json::array();
        for (const unsigned char c : piece) p["piece"].push_back(c);
      }
      tokens.push_back(std::move(p));
    } else {
      tokens.push_back(id);
    }
  }
  ex->send_json(status::ok, {{"model", m->id}, {"tokens", std::move(tokens)}});
}

void detokenize(const std::shared_ptr<Exchange>& ex, serving::ModelHost& host) {
  const json body = parse_body(*ex);
  auto m = loaded_model(host, body);
  const auto it = body.find("tokens");
  if (it == body.end() || !it->is_array())
    throw ApiError(status::bad_request, "'tokens' must be a list of token ids", "tokens");
  const int n_vocab = m->model->n_vocab();
  std::vector<engine::Token> ids;
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& t = (*it)[i];
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= n_vocab)
      throw ApiError(
          status::bad_request,
          "tokens[" + std::to_string(i) + "] must be a token id from 0 to " + std::to_string(n_vocab - 1),
          "tokens");
    ids.push_back(t.get<engine::Token>());
  }
  const std::string text = m->model->detokenize(ids);
  // Ids may end inside a character; invalid bytes become U+FFFD so the answer stays JSON.
  ex->send_json(status::ok, {{"model", m->id}, {"content", utf8::sanitize(text)}});
}

}  // namespace

void add_token_routes(Router& router, serving::ModelHost& host) {
  auto tok = guarded([&host](const std::shared_ptr<Exchange>& ex) { tokenize(ex, host); });
  auto detok = guarded([&host](const std::shared_ptr<Exchange>& ex) { detokenize(ex, host); });
  router.add(http::verb::post, "/api/tokenize", tok);
  router.add(http::verb::post, "/tokenize", tok);
  router.add(http::verb::post, "/api/detokenize", detok);
  router.add(http::verb::post, "/detokenize", detok);
}

}  // namespace rmm::server::native
