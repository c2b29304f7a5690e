#include "server/openai/completion_routes.hpp"

#include <mutex>

#include "core/error.hpp"
#include "server/api_error.hpp"
#include "server/openai/request.hpp"
#include "server/openai/responses.hpp"

namespace rmm::server::openai {
namespace {

using json = nlohmann::json;
using http::status;

// Wraps a handler so that ApiError and rmm::Error become OpenAI-shaped responses.
Handler guarded(std::function<void(const std::shared_ptr<Exchange>&)> fn) {
  return [fn = std::move(fn)](const std::shared_ptr<Exchange>& ex) {
    try {
      fn(ex);
    } catch (const ApiError& e) {
      ex->send_json(e.status, api_error_json(e.what(), e.type, e.param, e.code));
    } catch (const Error& e) {
      ex->send_json(status_for(e.kind()),
                    api_error_json(e.what(), e.kind() == ErrorKind::InvalidArgument ? "invalid_request_error"
                                                                                    : "server_error"));
    }
  };
}

std::shared_ptr<HostedModel> model_for(ModelHost& host, const std::string& requested) {
  auto m = host.find(requested);
  if (m) return m;
  const auto cur = host.current();
  if (host.loading() && !cur)
    throw ApiError(status::service_unavailable, "the model is still loading", "", "server_error");
  throw ApiError(status::not_found,
                 "model '" + requested + "' is not loaded" + (cur ? " (loaded: " + cur->id + ")" : ""),
                 "model", "invalid_request_error", "model_not_found");
}

// Everything one generation needs after submit; shared by the engine callbacks.
struct Run {
  Kind kind = Kind::Chat;
  ResponseIds ids;
  std::shared_ptr<Exchange> ex;
  bool stream = false, include_usage = false, logprobs = false;
  bool sent_role = false;
  json chat_logprobs = json::array();
  TextLogprobs text_logprobs;
};

void on_token(Run& run, const engine::TokenEvent& ev) {
  run.ex->add_tokens(1);
  if (!run.stream) {
    if (run.logprobs) {
      if (run.kind == Kind::Chat) {
        run.chat_logprobs.push_back(chat_logprob(ev));
      } else {
        run.text_logprobs.add(ev);
      }
    }
    return;
  }
  if (ev.text.empty() && !run.logprobs) return;
  json choice;
  if (run.kind == Kind::Chat) {
    json delta = {{"content", ev.text}};
    if (!run.sent_role) {
      delta["role"] = "assistant";
      run.sent_role = true;
    }
    choice = {{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", nullptr}};
    choice["logprobs"] = run.logprobs ? json{{"content", json::array({chat_logprob(ev)})}} : json(nullptr);
  } else {
    choice = {{"index", 0}, {"text", ev.text}, {"finish_reason", nullptr}};
    if (run.logprobs) {
      TextLogprobs one;
      one.offset = run.text_logprobs.offset;
      one.add(ev);
      run.text_logprobs.offset = one.offset;
      choice["logprobs"] = one.to_json();
    } else {
      choice["logprobs"] = nullptr;
    }
  }
  run.ex->write_chunk(sse(chunk(run.kind, run.ids, std::move(choice))));
}

void on_done(Run& run, const engine::GenerationResult& r) {
  if (r.stop_reason == engine::StopReason::Cancelled) {
    // The client left (or the server is stopping): end what can still be ended.
    if (run.stream) {
      run.ex->end_stream();
    } else {
      run.ex->send_json(status::service_unavailable,
                        api_error_json("the request was cancelled", "server_error", "", "cancelled"));
    }
    return;
  }
  if (r.stop_reason == engine::StopReason::Error) {
    const json err = api_error_json(r.error, "server_error");
    if (run.stream) {
      run.ex->write_chunk(sse(err));
      run.ex->end_stream();
    } else {
      run.ex->send_json(status::internal_server_error, err);
    }
    return;
  }
  const char* finish = finish_reason(r.stop_reason);
  if (run.stream) {
    json choice =
        run.kind == Kind::Chat
            ? json{{"index", 0}, {"delta", json::object()}, {"logprobs", nullptr}, {"finish_reason", finish}}
            : json{{"index", 0}, {"text", ""}, {"logprobs", nullptr}, {"finish_reason", finish}};
    if (run.kind == Kind::Chat && !run.sent_role) choice["delta"] = {{"role", "assistant"}, {"content", ""}};
    run.ex->write_chunk(sse(chunk(run.kind, run.ids, std::move(choice))));
    if (run.include_usage) {
      json u = chunk(run.kind, run.ids, nullptr);
      u["usage"] = usage_json(r.timings);
      run.ex->write_chunk(sse(u));
    }
    run.ex->write_chunk("data: [DONE]\n\n");
    run.ex->end_stream();
    return;
  }
  json choice = {{"index", 0}, {"finish_reason", finish}};
  if (run.kind == Kind::Chat) {
    choice["message"] = {{"role", "assistant"}, {"content", r.text}};
    choice["logprobs"] = run.logprobs ? json{{"content", run.chat_logprobs}} : json(nullptr);
  } else {
    choice["text"] = r.text;
    choice["logprobs"] = run.logprobs ? run.text_logprobs.to_json() : json(nullptr);
  }
  json body = {{"id", run.ids.id},
               {"object", run.kind == Kind::Chat ? "chat.completion" : "text_completion"},
               {"created", run.ids.created},
               {"model", run.ids.model},
               {"choices", json::array({std::move(choice)})},
               {"usage", usage_json(r.timings)},
               {"system_fingerprint", "rmm"}};
  run.ex->send_json(status::ok, body);
}

void start(const std::shared_ptr<Exchange>& ex, ModelHost& host, const std::shared_ptr<HostedModel>& m,
           Kind kind, ParsedRequest&& p) {
  auto& eng = *m->engine;
  if (eng.queued() >= host.options().max_queue) {
    throw ApiError(status::service_unavailable,
                   "the server is busy: " + std::to_string(eng.queued()) + " requests are already waiting",
                   "", "server_error", "queue_full");
  }
  auto run =
      std::make_shared<Run>();
  run->kind = kind;
  run->ids = new_ids(kind, m->id);
  run->ex = ex;
  run->stream = p.stream;
  run->include_usage = p.include_usage;
  run->logprobs = p.logprobs;
  p.generate.logprobs = p.logprobs;
  p.generate.top_logprobs = p.top_logprobs;
  // Errors (prompt vs context, sampling values) must be 400s before any byte is
  // sent, and the stream's head must go out before the first token.
  eng.engine().validate(p.generate);
  if (p.stream) ex->begin_stream();
  const auto id = eng.submit(
      std::move(p.generate), [run](const engine::TokenEvent& ev) { on_token(*run, ev); },
      [run](const engine::GenerationResult& r) { on_done(*run, r); });
  std::weak_ptr<HostedModel> weak = m;
  ex->on_disconnect([weak, id] {
    if (auto alive = weak.lock()) alive->engine->cancel(id);
  });
}

void chat_completions(const std::shared_ptr<Exchange>& ex, ModelHost& host) {
  const json body = parse_body(*ex);
  auto model = model_for(
      host, body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>() : "");
  ParsedRequest p = parse_common(body, model->model->n_vocab());
  p.logprobs = body.contains("logprobs") && body["logprobs"].is_boolean() && body["logprobs"].get<bool>();
  if (body.contains("logprobs") && !body["logprobs"].is_boolean() && !body["logprobs"].is_null())
    throw ApiError(status::bad_request, "'logprobs' must be true or false", "logprobs");
  if (body.contains("top_logprobs") && !body["top_logprobs"].is_null()) {
    const auto& t = body["top_logprobs"];
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > 20)
      throw ApiError(status::bad_request, "'top_logprobs' must be an integer between 0 and 20",
                     "top_logprobs");
    if (!p.logprobs)
      throw ApiError(status::bad_request, "'top_logprobs' needs 'logprobs': true", "top_logprobs");
    p.top_logprobs = t.get<int>();
  }
  const auto messages = parse_messages(body);
  const std::string schema = parse_response_format(body);
  const auto prompt = model->chat->format(messages, true);
  p.generate.prompt = model->model->tokenize_prompt(prompt.text);
  p.generate.stop.insert(p.generate.stop.end(), prompt.additional_stops.begin(),
                         prompt.additional_stops.end());
  if (!schema.empty()) p.generate.sampling.json_schema = schema;
  start(ex, host, model, Kind::Chat, std::move(p));
}

void completions(const std::shared_ptr<Exchange>& ex, ModelHost& host) {
  const json body = parse_body(*ex);
  auto model = model_for(
      host, body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>() : "");
  ParsedRequest p = parse_common(body, model->model->n_vocab());
  if (body.contains("logprobs") && !body["logprobs"].is_null()) {
    const auto& l = body["logprobs"];
    if (!l.is_number_integer() || l.get<int64_t>() < 0 || l.get<int64_t>() > 5)
      throw ApiError(status::bad_request, "'logprobs' must be an integer between 0 and 5", "logprobs");
    p.logprobs = true;
    p.top_logprobs = l.get<int>();
  }
  std::string prompt;
  const auto it = body.find("prompt");
  if (it == body.end() || it->is_null())
    throw ApiError(status::bad_request, "'prompt' is required", "prompt");
  if (it->is_string()) {
    prompt = it->get<std::string>();
  } else if (it->is_array() && it->size() == 1 && (*it)[0].is_string()) {
    prompt = (*it)[0].get<std::string>();
  } else {
    throw ApiError(status::bad_request, "'prompt' must be a string (or a list of one string)", "prompt");
  }
  if (body.contains("echo") && body["echo"].is_boolean() && body["echo"].get<bool>())
    throw ApiError(status::bad_request, "'echo' is not supported", "echo");
  const std::string schema = parse_response_format(body);
  if (!schema.empty()) p.generate.sampling.json_schema = schema;
  p.generate.prompt = model->model->tokenize_prompt(prompt);
  start(ex, host, model, Kind::Text, std::move(p));
}

}  // namespace

void add_routes(Router& router, ModelHost& host) {
  router.add(
      http::verb::get, "/v1/models", guarded([&host](const std::shared_ptr<Exchange>& ex) {
        json data = json::array();
        if (auto m = host.current()) {
          data.push_back({{"id", m->id}, {"object", "model"}, {"created", m->created}, {"owned_by", "rmm"}});
        }
        ex->send_json(status::ok, {{"object", "list"}, {"data", std::move(data)}});
      }));
  router.add(http::verb::post, "/v1/chat/completions",
             guarded([&host](const std::shared_ptr<Exchange>& ex) { chat_completions(ex, host); }));
  router.add(http::verb::post, "/v1/completions",
             guarded([&host](const std::shared_ptr<Exchange>& ex) { completions(ex, host); }));
  router.add(http::verb::post, "/v1/embeddings", guarded([&host](const std::shared_ptr<Exchange>& ex) {
               const json body = parse_body(*ex);
               auto model = model_for(host, body.contains("model") && body["model"].is_string()
                                                ? body["model"].get<std::string>()
                                                : "");
               throw ApiError(
                   status::bad_request,
                   "model '" + model->id + "' is a text generation model and does not produce embeddings",
                   "model");
             }));
}

}  // namespace rmm::server::openai
