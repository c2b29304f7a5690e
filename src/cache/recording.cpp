#include "cache/recording.hpp"

#include <nlohmann/json.hpp>

#include "codec/generation_json.hpp"
#include "core/error.hpp"

namespace rmm::cache {
namespace {

using json = nlohmann::json;

// 2: token events and the result in the codec's exact form (codec/generation_json.hpp).
constexpr int kFormat = 2;

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorKind::BadFile, "cached response is malformed: " + what);
}

}  // namespace

bool completed_normally(engine::StopReason r) {
  return r == engine::StopReason::Length || r == engine::StopReason::StopString ||
         r == engine::StopReason::EndOfGeneration;
}

std::string to_json(const Recording& rec) {
  json events = json::array();
  for (const auto& ev : rec.events) events.push_back(codec::token_event_record(ev));
  return json{
      {"format", kFormat}, {"events", std::move(events)}, {"result", codec::result_record(rec.result)}}
      .dump();
}

Recording recording_from_json(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) bad("not a JSON object");
  if (j.value("format", 0) != kFormat) bad("unknown format");
  Recording rec;
  try {
    const auto& events = j.at("events");
    if (!events.is_array()) bad("events is not a list");
    for (const auto& e : events) rec.events.push_back(codec::token_event_from_record(e));
    rec.result = codec::result_from_record(j.at("result"));
  } catch (const json::exception& e) {
    bad(e.what());
  }
  return rec;
}

}  // namespace rmm::cache
