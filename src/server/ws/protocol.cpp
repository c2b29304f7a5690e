#include "server/ws/protocol.hpp"

#include <nlohmann/json.hpp>

#include "codec/generation_json.hpp"
#include "core/utf8.hpp"
#include "serving/model_host.hpp"

namespace rmm::server::ws {
namespace {

using json = nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }
}  // namespace

std::string error_message(const std::string& error_type, const std::string& message, const std::string& id) {
  json j = {{"type", "error"}, {"error_type", error_type}, {"message", utf8::sanitize(message)}};
  if (!id.empty()) j["id"] = id;
  return dump(j);
}

// Token events and results in the one shape (codec/generation_json.hpp), with the message's type and id.
std::string token_message(const std::string& id, const engine::TokenEvent& ev) {
  json j = codec::token_event_json(ev);
  j["type"] = "token";
  j["id"] = id;
  return dump(j);
}

std::string complete_message(const std::string& id, const engine::GenerationResult& r,
                             const std::string& note) {
  json j = codec::result_json(r);
  j["type"] = "complete";
  j["id"] = id;
  if (!note.empty()) j["message"] = note;
  return dump(j);
}

std::string load_progress_message(float progress, const std::string& id) {
  json j = {{"type", "load_progress"}, {"progress", progress}, {"stage", "weights"}};
  if (!id.empty()) j["id"] = id;
  return dump(j);
}

std::string load_complete_message(const serving::HostedModel& m, const std::string& id) {
  const auto e = m.generator->shape();
  json j = {{"type", "load_complete"},
            {"metadata",
             {{"id", m.id},
              {"path", m.path.string()},
              {"description", m.description},
              {"context_size", e.n_ctx},
              {"context_per_slot", e.n_ctx_seq},
              {"slots", e.n_seq}}}};
  if (!id.empty()) j["id"] = id;
  return dump(j);
}

std::string paused_message(const std::string& id) { return dump({{"type", "paused"}, {"id", id}}); }

std::string resumed_message(const std::string& id, size_t buffered) {
  return dump({{"type", "resumed"}, {"id", id}, {"buffered", buffered}});
}

const char* finish_reason(engine::StopReason r) { return codec::finish_reason(r); }

const char* error_type_for(ErrorKind kind) { return codec::error_code(kind); }

}  // namespace rmm::server::ws
