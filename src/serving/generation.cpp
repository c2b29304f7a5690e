#include "serving/generation.hpp"

#include "core/clock.hpp"

namespace rmm::serving {

namespace {

// Replays or submits `request` as `plan` says; the canceller stops either.
cache::Canceller start(ModelHost& host, const std::shared_ptr<HostedModel>& model, cache::Plan plan,
                       engine::GenerateRequest request, engine::TokenCallback on_token,
                       engine::DoneCallback on_done) {
  std::weak_ptr<HostedModel> weak = model;
  HostedModel* m = model.get();  // `fresh` runs inside this call, while `model` holds it
  const cache::Generator fresh = [&host, m, weak](engine::GenerateRequest r, engine::TokenCallback t,
                                                  engine::DoneCallback d) -> cache::Canceller {
    if (const auto& hook = host.options().on_generation_done) {
      // The model outlives its engine thread, where this runs.
      d = [hook, m, d = std::move(d)](const engine::GenerationResult& result) {
        hook(*m, result);
        d(result);
      };
    }
    d = [recent = host.recent(), d = std::move(d)](const engine::GenerationResult& result) {
      if (result.stop_reason != engine::StopReason::Error) {
        const auto& t = result.timings;
        recent->add(
            {unix_ms(), t.prompt_tokens, t.prompt_ms, t.generated_tokens, t.generation_ms, t.queue_ms});
      }
      d(result);
    };
    const auto id = m->generator->submit(std::move(r), std::move(t), std::move(d));
    return [weak, id] {
      if (auto alive = weak.lock()) alive->generator->cancel(id);
    };
  };
  if (auto* c = host.options().cache)
    return c->start(std::move(plan), std::move(request), std::move(on_token), std::move(on_done), fresh);
  return fresh(std::move(request), std::move(on_token), std::move(on_done));
}

}  // namespace

cache::Canceller generate(ModelHost& host, const std::shared_ptr<HostedModel>& model,
                          engine::GenerateRequest request, cache::Policy policy,
                          GenerationCallbacks callbacks) {
  auto& eng = *model->generator;
  // Only requests that find every slot busy wait. A cache hit needs no slot,
  // but the queue still bounds it like any request, so that load is predictable.
  const size_t busy = eng.queued() + eng.running() + 1;
  const size_t slots = static_cast<size_t>(eng.shape().n_seq);
  const size_t would_wait = busy > slots ? busy - slots : 0;
  const size_t max_queue = host.options().max_queue;
  if (would_wait > max_queue) {
    throw Refused(Refused::Why::QueueFull, ErrorKind::Unavailable,
                  "the server is busy: all " + std::to_string(slots) + " slots are in use and " +
                      std::to_string(would_wait - 1) + " requests are already waiting (--queue " +
                      std::to_string(max_queue) + ")",
                  1);
  }
  if (auto overflow = context_overflow(*model, request.prompt.size() + request.continue_from.size(),
                                       request.continue_from.size());
      !overflow.empty())
    throw Refused(Refused::Why::PromptTooLong, ErrorKind::InvalidArgument, overflow);
  eng.validate(request);
  cache::Plan plan;
  if (auto* c = host.options().cache) plan = c->plan(model->path, eng.shape().n_ctx_seq, request, policy);
  if (callbacks.on_start) callbacks.on_start(plan.outcome);
  return start(host, model, std::move(plan), std::move(request), std::move(callbacks.on_token),
               std::move(callbacks.on_done));
}

}  // namespace rmm::serving
