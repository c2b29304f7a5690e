#include "server/chat_recording.hpp"

#include "codec/generation_json.hpp"
#include "codec/parameters_json.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "server/api_error.hpp"
#include "serving/chat_messages.hpp"

namespace rmm::server {
namespace {

using json = nlohmann::json;
using http::status;

constexpr size_t kMaxIdBytes = 128;

// The id asked for by the body field or the header ("" when neither asks).
std::string requested_id(const Exchange& ex, const json& body) {
  std::string from_body, from_header;
  if (const auto it = body.find(kConversationField); it != body.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>().empty())
      throw ApiError(status::bad_request,
                     std::string("'") + kConversationField + "' must be a conversation id or \"new\"",
                     kConversationField);
    from_body = it->get<std::string>();
  }
  if (const auto h = ex.request().find(kConversationHeader); h != ex.request().end()) {
    std::string v(h->value());
    const auto b = v.find_first_not_of(" \t"), e = v.find_last_not_of(" \t");
    from_header = b == std::string::npos ? "" : v.substr(b, e - b + 1);
    if (from_header.empty())
      throw ApiError(
          status::bad_request,
          std::string("the ") + kConversationHeader + " header must be a conversation id or \"new\"",
          kConversationHeader);
  }
  if (!from_body.empty() && !from_header.empty() && from_body != from_header)
    throw ApiError(status::bad_request,
                   std::string("'") + kConversationField + "' and the " + kConversationHeader +
                       " header name different conversations",
                   kConversationField);
  const std::string id = from_body.empty() ? from_header : from_body;
  if (id.size() > kMaxIdBytes)
    throw ApiError(
        status::bad_request,
        std::string("'") + kConversationField + "' is longer than " + std::to_string(kMaxIdBytes) + " bytes",
        kConversationField);
  return id;
}

}  // namespace

std::shared_ptr<ChatRecording> ChatRecording::from_request(store::Store* store, const Exchange& ex,
                                                           const json& body,
                                                           const std::vector<engine::ChatMessage>& messages,
                                                           const std::string& model_id) {
  const std::string id = requested_id(ex, body);
  if (id.empty()) return nullptr;
  if (!store) throw ApiError(status::bad_request, "this server keeps no chat history", kConversationField);
  auto rec = std::make_shared<ChatRecording>();
  rec->store_ = store;
  rec->model_ = model_id;
  if (id == "new") {
    rec->create_ = true;
    rec->id_ = serving::new_conversation_id();
    rec->conversation_.id = rec->id_;
    rec->conversation_.owner = ex.principal().owner();
    rec->conversation_.model = model_id;
    rec->conversation_.params_json = recorded_params(body);
    for (const auto& m : messages) {
      if (m.role == "user" && rec->conversation_.title.empty())
        rec->conversation_.title = serving::title_from(m.content);
      rec->pending_.push_back(serving::stored_message(m));
    }
    return rec;
  }
  const auto existing = store->get_conversation(id);
  // Another key's conversation is as good as absent.
  if (!existing || (!ex.principal().sees_all_history() && existing->owner != ex.principal().owner()))
    throw ApiError(status::not_found, "no conversation '" + id + "'", kConversationField,
                   "invalid_request_error", "conversation_not_found");
  rec->id_ = id;
  size_t first_new = messages.size();
  while (first_new > 0 && (messages[first_new - 1].role == "user" || messages[first_new - 1].role == "tool"))
    --first_new;
  for (size_t i = first_new; i < messages.size(); ++i) {
    rec->pending_.push_back(serving::stored_message(messages[i]));
    if (existing->title.empty() && messages[i].role == "user" && rec->conversation_.title.empty())
      rec->conversation_.title = serving::title_from(messages[i].content);
  }
  rec->set_title_ = !rec->conversation_.title.empty();
  return rec;
}

void ChatRecording::finish(const std::string& answer, const engine::GenerationResult& r,
                           const std::string& logprobs_json) {
  try {
    // One chain, in one transaction: after the current leaf of an existing
    // conversation (whichever branch is in view), from the root of a new one.
    std::vector<store::ChatMessage> msgs = pending_;
    msgs.push_back(serving::answer_message(model_, answer, r.timings, logprobs_json));
    if (create_) {
      store::Conversation c = conversation_;
      c.messages = std::move(msgs);
      store_->create_conversation(c);
    } else {
      store_->append_messages(id_, msgs);
    }
    if (set_title_) store_->rename_conversation(id_, conversation_.title);
  } catch (const std::exception& e) {
    spdlog::error("could not store conversation {}: {}", id_, e.what());
  }
}

// The generation parameters the request gave, kept with a new conversation:
// the table's as the request was read (codec/parameters_json.hpp), and /v1's
// own options as they came.
std::string recorded_params(const json& body) {
  engine::GenerateRequest read = engine::openai_defaults();
  json p = json::object();
  try {
    codec::read_parameters(body, read);
    p = codec::parameters_json(read, &body);
  } catch (const codec::ParameterError&) {
    // Unreachable: the request was read before it was recorded.
  }
  for (const char* key :
       {"max_completion_tokens", "logprobs", "top_logprobs", "response_format", "logit_bias"}) {
    if (const auto it = body.find(key); it != body.end() && !it->is_null()) p[key] = *it;
  }
  return p.dump();
}

}  // namespace rmm::server
