#pragma once
// The one way a front end starts a generation on a loaded model (/v1, the
// WebSocket, /api/prompts/run; later the desktop app): bound the wait queue,
// check the prompt against a conversation's context and the request against
// the engine, plan it through the response cache when the host has one, then
// replay or submit it. Everything that can refuse a request happens before
// anything starts, so a front end can still answer with an error.
#include <functional>
#include <memory>

#include "cache/response_cache.hpp"
#include "core/error.hpp"
#include "serving/model_host.hpp"

namespace rmm::serving {

// A request refused before it started, with why (front ends give these their
// own codes: OpenAI's "queue_full" 503 and "context_length_exceeded" 400).
class Refused : public Error {
 public:
  enum class Why { QueueFull, PromptTooLong };
  Refused(Why why, ErrorKind kind, const std::string& message, int retry_after_s = 0)
      : Error(kind, message, retry_after_s), why_(why) {}
  Why why() const { return why_; }

 private:
  Why why_;
};

struct GenerationCallbacks {
  // After every check and before the first token, with the cache's decision
  // (hit, miss or bypass): where a route sends its response head. Optional.
  std::function<void(cache::Outcome)> on_start;
  engine::TokenCallback on_token;
  engine::DoneCallback on_done;
};

// Starts `request` on `model`. At most HostOptions::max_queue requests wait
// past the model's busy slots; more are Refused(QueueFull, Unavailable). A
// prompt that does not fit a conversation is Refused(PromptTooLong,
// InvalidArgument); bad sampling values are rmm::Error(InvalidArgument). Call
// it from one thread per host (the server's I/O thread), so that the queue
// check and the submit are not interleaved with another request's. Returns a
// canceller that stops the generation (or the replay) and never keeps the
// model alive.
cache::Canceller generate(ModelHost& host, const std::shared_ptr<HostedModel>& model,
                          engine::GenerateRequest request, cache::Policy policy,
                          GenerationCallbacks callbacks);

}  // namespace rmm::serving
