#include "server/ws/protocol.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/utf8.hpp"
#include "server/model_host.hpp"

namespace rmm::server::ws {
namespace {

using json = nlohmann::json;

json logprob(float v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }
}  // namespace

std::string error_message(const std::string& error_type, const std::string& message, const std::string& id) {
  json j = {{"type", "error"}, {"error_type", error_type}, {"message", utf8::sanitize(message)}};
  if (!id.empty()) j["id"] = id;
  return dump(j);
}

std::string token_message(const std::string& id, const engine::TokenEvent& ev) {
  json alts = json::array();
  for (const auto& a : ev.top) {
    // An alternative's text may be part of a multi-byte character; JSON needs whole ones.
    alts.push_back(
        {{"text", utf8::sanitize(a.text)}, {"token_id", a.token}, {"logprob", logprob(a.logprob)}});
  }
  return dump({{"type", "token"},
               {"id", id},
               {"index", ev.index},
               {"text", ev.text},
               {"token_id", ev.token},
               {"logprob", logprob(ev.logprob)},
               {"alternatives", std::move(alts)},
               {"t_ms", ev.t_ms}});
}

std::string complete_message(const std::string& id, const engine::GenerationResult& r,
                             const std::string& note) {
  const auto& t = r.timings;
  json j = {{"type", "complete"},
            {"id", id},
            {"finish_reason", finish_reason(r.stop_reason)},
            {"usage",
             {{"prompt_tokens", t.prompt_tokens},
              {"completion_tokens", t.generated_tokens},
              {"total_tokens", t.prompt_tokens + t.generated_tokens}}},
            {"timings",
             {{"queue_ms", t.queue_ms},
              {"prompt_ms", t.prompt_ms},
              {"generation_ms", t.generation_ms},
              {"prompt_tokens_per_second", t.prompt_tokens_per_second()},
              {"generation_tokens_per_second", t.generation_tokens_per_second()},
              {"cached_tokens", t.cached_tokens}}},
            {"seed", r.seed}};
  if (r.stop_reason == engine::StopReason::StopString && !r.stop_string.empty())
    j["stop_string"] = r.stop_string;
  if (r.stop_reason == engine::StopReason::Error) {
    j["message"] = r.error;
    j["code"] = error_type_for(r.error_kind);  // "unavailable": the model's worker died; send it again
  }
  if (!note.empty()) j["message"] = note;
  return dump(j);
}

std::string load_progress_message(float progress, const std::string& id) {
  json j = {{"type", "load_progress"}, {"progress", progress}, {"stage", "weights"}};
  if (!id.empty()) j["id"] = id;
  return dump(j);
}

std::string load_complete_message(const HostedModel& m, const std::string& id) {
  const auto e = m.engine->shape();
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

const char* finish_reason(engine::StopReason r) {
  switch (r) {
    case engine::StopReason::EndOfGeneration:
    case engine::StopReason::StopString: return "stop";
    case engine::StopReason::Length: return "length";
    case engine::StopReason::Cancelled: return "cancelled";
    case engine::StopReason::Error: return "error";
  }
  return "error";
}

const char* error_type_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidArgument: return "invalid_request";
    case ErrorKind::NotFound: return "not_found";
    case ErrorKind::BadFile: return "bad_model";
    case ErrorKind::OutOfMemory: return "out_of_memory";
    case ErrorKind::Cancelled: return "cancelled";
    case ErrorKind::Unavailable: return "unavailable";
    case ErrorKind::Forbidden: return "forbidden";
    case ErrorKind::Internal: return "server_error";
  }
  return "server_error";
}

}  // namespace rmm::server::ws
