#include "server/cached_generation.hpp"

#include <algorithm>
#include <cctype>

namespace rmm::server {

namespace {

// Cache-Control directives, lower case, without arguments.
bool has_directive(std::string value, const std::string& directive) {
  std::transform(value.begin(), value.end(), value.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t end = value.find(',', pos);
    if (end == std::string::npos) end = value.size();
    std::string item = value.substr(pos, end - pos);
    item = item.substr(0, item.find('='));
    const auto first = item.find_first_not_of(" \t");
    const auto last = item.find_last_not_of(" \t");
    if (first != std::string::npos && item.substr(first, last - first + 1) == directive) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace

cache::Policy cache_policy(const Request& request, bool body_allows) {
  cache::Policy p;
  if (!body_allows) return {false, false};
  for (const auto& field : request) {
    if (field.name() != http::field::cache_control) continue;
    const std::string v(field.value());
    if (has_directive(v, "no-store")) return {false, false};
    if (has_directive(v, "no-cache")) p.read = false;
  }
  return p;
}

cache::Plan plan_generation(ModelHost& host, const HostedModel& model, const engine::GenerateRequest& request,
                            cache::Policy policy) {
  auto* c = host.options().cache;
  if (!c) return {};
  return c->plan(model.path, model.engine->shape().n_ctx_seq, request, policy);
}

cache::Canceller start_generation(ModelHost& host, const std::shared_ptr<HostedModel>& model,
                                  cache::Plan plan, engine::GenerateRequest request,
                                  engine::TokenCallback on_token, engine::DoneCallback on_done) {
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
    const auto id = m->engine->submit(std::move(r), std::move(t), std::move(d));
    return [weak, id] {
      if (auto alive = weak.lock()) alive->engine->cancel(id);
    };
  };
  if (auto* c = host.options().cache)
    return c->start(std::move(plan), std::move(request), std::move(on_token), std::move(on_done), fresh);
  return fresh(std::move(request), std::move(on_token), std::move(on_done));
}

}  // namespace rmm::server
