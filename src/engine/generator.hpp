#pragma once
// What front ends generate through: the engine on a thread of this process
// (EngineThread) or a model served by a supervised worker process
// (worker::WorkerClient). Callbacks run on one thread of the implementation,
// must not block, and on_done runs exactly once per accepted request.
#include <cstddef>

#include "engine/generation.hpp"

namespace rmm::engine {

using RequestId = uint64_t;

// The context a generator decodes in.
struct ContextShape {
  int n_ctx = 0;      // KV cells over all sequences
  int n_ctx_seq = 0;  // the most tokens (prompt + output) one sequence can hold
  int n_seq = 1;      // sequences decoded together (slots)
};

class Generator {
 public:
  virtual ~Generator() = default;
  // Validates and queues a request: throws rmm::Error(InvalidArgument) naming
  // the problem (see validate_request), Unavailable when the generator is gone.
  virtual RequestId submit(GenerateRequest request, TokenCallback on_token, DoneCallback on_done) = 0;
  // The checks submit() makes, without queueing anything. Thread-safe.
  virtual void validate(const GenerateRequest& request) const = 0;
  // Ends a queued or running request with StopReason::Cancelled soon; unknown ids are ignored.
  virtual void cancel(RequestId id) = 0;
  virtual void cancel_all() = 0;
  virtual size_t queued() const = 0;
  virtual size_t running() const = 0;
  virtual ContextShape shape() const = 0;
};

// The request checks every generator makes: a non-empty prompt of in-vocabulary
// tokens that leaves room in a sequence, sane limits and sampling values.
// Throws rmm::Error(InvalidArgument).
void validate_request(const GenerateRequest& request, int n_vocab, int n_ctx_seq);

}  // namespace rmm::engine
