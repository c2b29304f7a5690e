#include "server/openai/completion_routes.hpp"

#include <filesystem>
#include <mutex>
#include <set>

#include "codec/generation_json.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "server/access_guard.hpp"
#include "server/api_error.hpp"
#include "server/cache_control.hpp"
#include "server/chat_recording.hpp"
#include "server/keep_alive.hpp"
#include "server/openai/request.hpp"
#include "server/openai/responses.hpp"
#include "server/route_guard.hpp"
#include "serving/generation.hpp"

namespace rmm::server::openai {
namespace {

using json = nlohmann::ordered_json;  // responses keep OpenAI's field order
using http::status;

// The body's "model" when it is a string ("" otherwise: parse_common reports the type).
std::string requested_model(const nlohmann::json& body) {
  const auto it = body.find("model");
  return it != body.end() && it->is_string() ? it->get<std::string>() : "";
}

// The requested model when it is loaded (marked as used, with the body's
// keep_alive). Otherwise, for a model that exists, nullptr: it is loaded off
// the I/O thread (requests to other models go on meanwhile) and `retry` runs
// the handler again from there; errors of that load answer the request. A
// request that names no model gets the one named at start (rmm serve
// --model), or else the only loaded one.
std::shared_ptr<serving::HostedModel> model_or_load(const std::shared_ptr<Exchange>& ex,
                                                    serving::ModelHost& host, const nlohmann::json& body,
                                                    std::function<void()> retry) {
  const std::string requested = requested_model(body);
  const serving::UseOptions use = use_options_from(body);
  if (auto m = host.find(requested)) {
    check_model_access(ex->principal(), host, m->path);
    if (m->n_ctx_train > 0 && use.num_ctx > m->n_ctx_train)
      throw ApiError(status::bad_request,
                     "num_ctx " + std::to_string(use.num_ctx) + " is more than model '" + m->id +
                         "' was trained on (" + std::to_string(m->n_ctx_train) + " tokens)",
                     "num_ctx");
    if (!serving::ModelHost::needs_more_context(*m, use)) {
      host.touch(*m, use);
      return m;
    }
  }
  if (requested.empty()) {
    if (host.loading() && host.loaded().empty())
      throw ApiError(status::service_unavailable, "the model is still loading", "", "server_error");
    if (const auto why = host.no_model_reason(); !why.empty())
      throw ApiError(status::bad_request, why, "model", "invalid_request_error", "model_not_found");
  }
  try {
    check_model_access(ex->principal(), host, host.resolve(requested));
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::NotFound) throw;
    throw ApiError(status::not_found, "model '" + requested + "' is not loaded and " + e.what(), "model",
                   "invalid_request_error", "model_not_found");
  }
  host.run_in_background([ex, &host, requested, use, retry = std::move(retry)] {
    guarded([&](const std::shared_ptr<Exchange>&) {
      host.acquire(requested, use);
      retry();
    })(ex);
  });
  return nullptr;
}

// Everything one generation needs after submit; shared by the engine callbacks.
struct Run {
  Kind kind = Kind::Chat;
  ResponseIds ids;
  std::shared_ptr<Exchange> ex;
  bool stream = false, include_usage = false, logprobs = false;
  bool sent_role = false;
  // Tool requests: the answer is parsed by the template's format at the end.
  std::shared_ptr<const engine::ChatPrompt> tool_prompt;
  json chat_logprobs = json::array();
  TextLogprobs text_logprobs;
  // What chat history keeps of each token when logprobs were asked for: the one token event shape.
  nlohmann::json stored_tokens = nlohmann::json::array();
  // Chat history asked for by the request (nullptr: nothing is stored).
  std::shared_ptr<ChatRecording> record;
  bool sent_conversation = false;
  // continue_from's text: the answer starts with it, so a stream sends it first, before the new tokens.
  std::string continued;
  // Response headers (X-RMM-Cache, X-RMM-Conversation), for the stream's head or the whole answer.
  std::vector<std::pair<std::string, std::string>> headers;
};

// A stored chat's first stream chunk names its conversation.
json tagged(Run& run, json c) {
  if (run.record && !run.sent_conversation) {
    c[kConversationField] = run.record->conversation_id();
    run.sent_conversation = true;
  }
  return c;
}

void on_token(Run& run, const engine::TokenEvent& ev) {
  run.ex->add_tokens(1);
  if (run.record && run.logprobs && run.kind == Kind::Chat)
    run.stored_tokens.push_back(codec::token_event_json(ev));
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
  if (run.tool_prompt) return;  // parsed and sent whole at the end
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
  run.ex->write_chunk(sse(tagged(run, chunk(run.kind, run.ids, std::move(choice)))));
}

void on_done(Run& run, const engine::GenerationResult& r) {
  run.ex->set_usage(run.ids.model, r.timings.prompt_tokens);
  if (r.stop_reason == engine::StopReason::Cancelled) {
    // The client left (nothing reaches it any more) or the server is stopping: a stream then ends
    // with an error event, as for a worker crash, so that clients can tell it from a finished answer.
    const json err = run.ex->server_stopping()
                         ? api_error_json("the server is shutting down", "server_error", "", "unavailable")
                         : api_error_json("the request was cancelled", "server_error", "", "cancelled");
    if (run.stream) {
      run.ex->write_chunk(sse(err));
      run.ex->end_stream();
    } else {
      run.ex->send_json(status::service_unavailable, err, error_headers(status::service_unavailable));
    }
    return;
  }
  if (r.stop_reason == engine::StopReason::Error) {
    // Unavailable (the model's worker died) is a 503: the request may simply be sent again.
    const json err = api_error_json(r.error, "server_error", "", error_kind_name(r.error_kind));
    if (run.stream) {
      run.ex->write_chunk(sse(err));
      run.ex->end_stream();
    } else {
      run.ex->send_ordered_json(status_for(r.error_kind), err, error_headers(status_for(r.error_kind)));
    }
    return;
  }
  const char* finish = finish_reason(r.stop_reason);
  json tool_calls = nullptr;
  std::string content = r.text;
  if (run.tool_prompt) {
    try {
      const auto reply = run.tool_prompt->parse_reply(r.text);
      content = reply.content;
      if (!reply.tool_calls.empty()) {
        tool_calls = json::array();
        for (const auto& tc : reply.tool_calls) {
          tool_calls.push_back(
              {{"id", tc.id.empty() ? "call_" + new_ids(Kind::Text, "").id.substr(5) : tc.id},
               {"type", "function"},
               {"function", {{"name", tc.name}, {"arguments", tc.arguments}}}});
        }
        finish = "tool_calls";
      }
    } catch (const Error&) {
      // Text that does not follow the tool format stays plain content.
    }
  }
  if (run.record) run.record->finish(content, r, run.logprobs ? run.stored_tokens.dump() : "");
  if (run.stream && run.tool_prompt) {
    json delta = {{"role", "assistant"}, {"content", content}};
    if (!tool_calls.is_null()) {
      json indexed = tool_calls;
      for (size_t i = 0; i < indexed.size(); ++i) indexed[i]["index"] = i;
      delta["tool_calls"] = std::move(indexed);
    }
    json choice = {
        {"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
    run.ex->write_chunk(sse(tagged(run, chunk(run.kind, run.ids, std::move(choice)))));
    run.sent_role = true;
  }
  if (run.stream) {
    json choice =
        run.kind == Kind::Chat
            ? json{{"index", 0}, {"delta", json::object()}, {"logprobs", nullptr}, {"finish_reason", finish}}
            : json{{"index", 0}, {"text", ""}, {"logprobs", nullptr}, {"finish_reason", finish}};
    if (run.kind == Kind::Chat && !run.sent_role) choice["delta"] = {{"role", "assistant"}, {"content", ""}};
    run.ex->write_chunk(sse(tagged(run, chunk(run.kind, run.ids, std::move(choice)))));
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
    choice["message"] = {
        {"role", "assistant"},
        {"content", tool_calls.is_null() || !content.empty() ? json(content) : json(nullptr)}};
    if (!tool_calls.is_null()) choice["message"]["tool_calls"] = std::move(tool_calls);
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
  if (run.record) body[kConversationField] = run.record->conversation_id();
  run.ex->send_ordered_json(status::ok, body, run.headers);
}

void start(const std::shared_ptr<Exchange>& ex, serving::ModelHost& host,
           const std::shared_ptr<serving::HostedModel>& m, Kind kind, ParsedRequest&& p,
           std::shared_ptr<const engine::ChatPrompt> tool_prompt = nullptr,
           std::shared_ptr<ChatRecording> record = nullptr) {
  p.generate.logprobs = p.logprobs;
  p.generate.top_logprobs = p.top_logprobs;
  auto run = std::make_shared<Run>();
  run->kind = kind;
  run->ids = new_ids(kind, m->id);
  run->ex = ex;
  run->stream = p.stream;
  run->include_usage = p.include_usage;
  run->logprobs = p.logprobs;
  run->tool_prompt = std::move(tool_prompt);
  run->record = std::move(record);
  // The engine's result text starts with the same text (engine::continue_from_text); text
  // completions' offsets count from there.
  if (!p.generate.continue_from.empty())
    run->continued = engine::continue_from_text(*m->model, p.generate).text;
  run->text_logprobs.offset = run->continued.size();
  serving::GenerationCallbacks callbacks;
  // The stream's head names the cache's outcome and must go out before the first token.
  callbacks.on_start = [run](cache::Outcome outcome) {
    run->headers.emplace_back(kCacheHeader, cache::outcome_name(outcome));
    if (run->record) run->headers.emplace_back(kConversationHeader, run->record->conversation_id());
    if (!run->stream) return;
    run->ex->begin_stream("text/event-stream", run->headers);
    // The answer so far goes out as the first delta, so that the deltas join to the whole answer,
    // as the content of a whole response does; it has no logprobs (no token events of its own).
    if (run->continued.empty() || run->tool_prompt) return;
    json choice;
    if (run->kind == Kind::Chat) {
      choice = {{"index", 0},
                {"delta", {{"role", "assistant"}, {"content", run->continued}}},
                {"logprobs", nullptr},
                {"finish_reason", nullptr}};
      run->sent_role = true;
    } else {
      choice = {{"index", 0}, {"text", run->continued}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
    }
    run->ex->write_chunk(sse(tagged(*run, chunk(run->kind, run->ids, std::move(choice)))));
  };
  callbacks.on_token = [run](const engine::TokenEvent& ev) { on_token(*run, ev); };
  callbacks.on_done = [run](const engine::GenerationResult& r) {
    // Storing the conversation talks to the database: never on the engine thread, which
    // serves every slot. The answer still goes out only once it is stored.
    const bool stores = run->record && r.stop_reason != engine::StopReason::Cancelled &&
                        r.stop_reason != engine::StopReason::Error;
    if (stores) {
      run->ex->run_blocking([run, r] { on_done(*run, r); });
    } else {
      on_done(*run, r);
    }
  };
  cache::Canceller cancel;
  try {
    cancel = serving::generate(host, m, std::move(p.generate), cache_policy(ex->request(), p.cache),
                               std::move(callbacks));
  } catch (const serving::Refused& e) {
    if (e.why() == serving::Refused::Why::QueueFull)
      throw ApiError(status::service_unavailable, e.what(), "", "server_error", "queue_full");
    throw ApiError(status::bad_request, e.what(), kind == Kind::Chat ? "messages" : "prompt",
                   "invalid_request_error", "context_length_exceeded");
  }
  ex->on_disconnect(std::move(cancel));
}

// The engine builds a request's grammar (from a JSON Schema or the tools) only
// when it admits the request, on its own thread, where a refusal would end an
// accepted request. Built and freed here too, so that a schema or grammar that
// llama.cpp refuses is a 400 naming the field before anything is queued or sent.
void check_constraints(const serving::HostedModel& m, const engine::SamplingParams& s) {
  if (s.grammar.empty() && s.json_schema.empty()) return;
  const char* field = s.grammar.empty() ? "response_format.json_schema" : "tools";
  try {
    engine::check_grammar(*m.model, s);
  } catch (const Error& e) {
    throw ApiError(status::bad_request, std::string(field) + ": " + e.what(), field);
  }
}

// tools / tool_choice / parallel_tool_calls → chat options. Returns whether tools are in play.
bool parse_tools(const json& body, engine::ChatOptions& opts) {
  const auto it = body.find("tools");
  if (it == body.end() || it->is_null()) {
    if (body.contains("tool_choice") && !body["tool_choice"].is_null() && body["tool_choice"] != "none")
      throw ApiError(status::bad_request, "'tool_choice' needs 'tools'", "tool_choice");
    return false;
  }
  if (!it->is_array()) throw ApiError(status::bad_request, "'tools' must be a list", "tools");
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& t = (*it)[i];
    const std::string where = "tools[" + std::to_string(i) + "]";
    if (!t.is_object() || t.value("type", "") != "function" || !t.contains("function") ||
        !t["function"].is_object() || !t["function"].contains("name") || !t["function"]["name"].is_string())
      throw ApiError(status::bad_request,
                     where + " must be {type: \"function\", function: {name, parameters}}", where);
  }
  if (it->empty()) return false;
  opts.tools_json = it->dump();
  if (const auto tc = body.find("tool_choice"); tc != body.end() && !tc->is_null()) {
    if (tc->is_string()) {
      const std::string v = *tc;
      if (v != "auto" && v != "none" && v != "required")
        throw ApiError(status::bad_request, "'tool_choice' must be auto, none, required or a function",
                       "tool_choice");
      opts.tool_choice = v;
    } else if (tc->is_object() && tc->contains("function") && (*tc)["function"].is_object() &&
               (*tc)["function"].contains("name") && (*tc)["function"]["name"].is_string()) {
      opts.tool_choice = (*tc)["function"]["name"];
    } else {
      throw ApiError(status::bad_request,
                     "'tool_choice' must be auto, none, required or {type, function: {name}}", "tool_choice");
    }
  }
  if (const auto ptc = body.find("parallel_tool_calls"); ptc != body.end() && ptc->is_boolean()) {
    opts.parallel_tool_calls = ptc->get<bool>();
  }
  return opts.tool_choice != "none";
}

void chat_completions(const std::shared_ptr<Exchange>& ex, serving::ModelHost& host, const json& body,
                      store::Store* store = nullptr) {
  auto model =
      model_or_load(ex, host, body, [ex, &host, body, store] { chat_completions(ex, host, body, store); });
  if (!model) return;
  ParsedRequest p = parse_common(body, model->model->n_vocab());
  p.logprobs = bool_field(body, "logprobs", false);
  if (body.contains("top_logprobs") && !body["top_logprobs"].is_null()) {
    const auto& t = body["top_logprobs"];
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > 20)
      throw ApiError(status::bad_request, "'top_logprobs' must be an integer between 0 and 20",
                     "top_logprobs");
    if (!p.logprobs)
      throw ApiError(status::bad_request, "'top_logprobs' needs 'logprobs': true", "top_logprobs");
    p.top_logprobs = t.get<int>();
  }
  // Field-by-field checks with precise errors; llama.cpp common reads the messages below.
  const auto parsed_messages = parse_messages(body);
  const std::string schema = parse_response_format(body);
  engine::ChatOptions opts;
  json messages = body["messages"];
  for (auto& msg : messages) {
    if (msg["role"] == "developer") msg["role"] = "system";
  }
  opts.messages_json = messages.dump();
  const bool tools = parse_tools(body, opts);
  std::shared_ptr<engine::ChatPrompt> prompt;
  try {
    prompt = std::make_shared<engine::ChatPrompt>(model->chat->format_openai(opts));
  } catch (const engine::ChatInputError& e) {
    throw ApiError(status::bad_request, e.what(), e.field());
  }
  spdlog::debug("chat prompt: {} chars, grammar {} chars{}, {} trigger patterns, {} trigger tokens",
                prompt->text.size(), prompt->grammar.size(), prompt->grammar_lazy ? " (lazy)" : "",
                prompt->trigger_patterns.size(), prompt->trigger_tokens.size());
  spdlog::debug("grammar:\n{}\nprefill: {}", prompt->grammar, prompt->grammar_prefill);
  p.generate.prompt = model->model->tokenize_prompt(prompt->text);
  p.generate.stop.insert(p.generate.stop.end(), prompt->additional_stops.begin(),
                         prompt->additional_stops.end());
  p.generate.visible_special_tokens = prompt->visible_special_tokens;
  if (!schema.empty()) p.generate.sampling.json_schema = schema;
  if (tools && !prompt->grammar.empty()) {
    if (!schema.empty())
      throw ApiError(status::bad_request, "use either tools or response_format, not both", "tools");
    auto& s = p.generate.sampling;
    s.grammar = prompt->grammar;
    s.grammar_lazy = prompt->grammar_lazy;
    s.grammar_trigger_patterns = prompt->trigger_patterns;
    s.grammar_trigger_tokens = prompt->trigger_tokens;
    s.grammar_prefill = prompt->grammar_prefill;
  }
  check_constraints(*model, p.generate.sampling);
  auto record = ChatRecording::from_request(store, *ex, body, parsed_messages, model->id);
  start(ex, host, model, Kind::Chat, std::move(p), tools ? prompt : nullptr, std::move(record));
}

void completions(const std::shared_ptr<Exchange>& ex, serving::ModelHost& host) {
  const json body = parse_body(*ex);
  auto model = model_or_load(ex, host, body, [ex, &host] { completions(ex, host); });
  if (!model) return;
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
  check_constraints(*model, p.generate.sampling);
  // "suffix": fill in the middle (code completion in editors), with the model's own FIM tokens.
  const auto suffix = body.find("suffix");
  if (suffix != body.end() && !suffix->is_null() && !suffix->is_string())
    throw ApiError(status::bad_request, "'suffix' must be a string", "suffix");
  const bool fim = suffix != body.end() && suffix->is_string() &&
                   (!suffix->get_ref<const std::string&>().empty() || model->model->has_fill_in_middle());
  if (fim && !model->model->has_fill_in_middle())
    throw ApiError(status::bad_request,
                   "'suffix' needs a model with fill-in-the-middle tokens, and model '" + model->id +
                       "' has none (code models such as Qwen2.5-Coder, StarCoder2 or CodeLlama have them)",
                   "suffix");
  p.generate.prompt = fim ? model->model->fill_in_middle(prompt, suffix->get<std::string>())
                          : model->model->tokenize_prompt(prompt);
  start(ex, host, model, Kind::Text, std::move(p));
}

// One entry of OpenAI's model list.
json model_object(const std::string& id, int64_t created, bool loaded) {
  return {{"id", id}, {"object", "model"}, {"created", created}, {"owned_by", "rmm"}, {"loaded", loaded}};
}

std::string canonical_or_same(const std::filesystem::path& p) {
  std::error_code ec;
  auto c = std::filesystem::weakly_canonical(p, ec);
  return (ec ? p : c).string();
}

}  // namespace

void serve_chat_completion(const std::shared_ptr<Exchange>& ex, serving::ModelHost& host,
                           const nlohmann::json& body, store::Store* store) {
  chat_completions(ex, host, body, store);
}

void add_routes(Router& router, serving::ModelHost& host, store::Store* store) {
  // Every model there is to serve, loaded or not (a request loads it), as
  // Ollama and LM Studio list theirs: pickers in Open WebUI or Continue are
  // not empty on a fresh server. "loaded" is our extension.
  router.add(http::verb::get, "/v1/models", guarded_blocking([&host](const std::shared_ptr<Exchange>& ex) {
               json data = json::array();
               std::set<std::string> seen;
               for (const auto& m : host.loaded()) {
                 data.push_back(model_object(m->id, m->created, true));
                 seen.insert(canonical_or_same(m->path));
               }
               for (const auto& f : host.list_files()) {
                 if (seen.insert(canonical_or_same(f.path)).second)
                   data.push_back(model_object(f.id, f.modified, false));
               }
               ex->send_ordered_json(status::ok, json{{"object", "list"}, {"data", std::move(data)}});
             }));
  router.add(
      http::verb::get, "/v1/models/{id}", guarded_blocking([&host](const std::shared_ptr<Exchange>& ex) {
        const auto& id = ex->path_params().at(0);
        if (auto m = host.find(id); m && !id.empty()) {
          ex->send_ordered_json(status::ok, model_object(m->id, m->created, true));
          return;
        }
        for (const auto& f : host.list_files()) {
          if (f.id == id) {
            ex->send_ordered_json(status::ok, model_object(f.id, f.modified, false));
            return;
          }
        }
        throw ApiError(status::not_found, "model '" + id + "' does not exist (GET /v1/models lists them)",
                       "model", "invalid_request_error", "model_not_found");
      }));
  router.add(http::verb::post, "/v1/chat/completions",
             guarded([&host, store](const std::shared_ptr<Exchange>& ex) {
               chat_completions(ex, host, parse_body(*ex), store);
             }));
  router.add(http::verb::post, "/v1/completions",
             guarded([&host](const std::shared_ptr<Exchange>& ex) { completions(ex, host); }));
  router.add(http::verb::post, "/v1/embeddings", guarded([&host](const std::shared_ptr<Exchange>& ex) {
               const json body = parse_body(*ex);
               const std::string requested = requested_model(body);
               std::string id;
               if (auto m = host.find(requested)) {
                 id = m->id;
               } else if (requested.empty()) {
                 throw ApiError(status::bad_request, host.no_model_reason(), "model", "invalid_request_error",
                                "model_not_found");
               } else {
                 id = host.id_of(host.resolve(requested));  // NotFound: 404
               }
               throw ApiError(status::bad_request,
                              "model '" + id + "' is a text generation model and does not produce embeddings",
                              "model");
             }));
}

}  // namespace rmm::server::openai
