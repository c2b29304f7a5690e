#include "engine_worker.hpp"

#include <QMetaObject>
#include <nlohmann/json.hpp>

#include "codec/generation_json.hpp"
#include "serving/chat_messages.hpp"
#include "serving/generation.hpp"
#include "token_events.hpp"

namespace rmm::desktop {

namespace {

ModelEntry entry_of(const store::ModelRecord& r) {
  ModelEntry e;
  e.name = QString::fromStdString(r.short_name);
  e.path = QString::fromStdString(r.path);
  e.kind = QString::fromStdString(r.kind);
  e.size = r.size;
  const auto meta = nlohmann::json::parse(r.metadata_json, nullptr, false);
  if (meta.is_object()) {
    if (meta.contains("quantization") && meta["quantization"].is_string())
      e.quantization = QString::fromStdString(meta["quantization"].get<std::string>());
    if (meta.contains("parameters") && meta["parameters"].is_number())
      e.parameters = meta["parameters"].get<qint64>();
    if (meta.contains("context_length") && meta["context_length"].is_number())
      e.context = meta["context_length"].get<int>();
  }
  return e;
}

}  // namespace

EngineWorker::EngineWorker(AppCore& core) : core_(core) {}

EngineWorker::~EngineWorker() {
  // No callback may reach this object once it goes.
  alive_->store(false);
  if (cancel_) cancel_();
}

void EngineWorker::listModels() {
  try {
    core_.registry().scan();
    ModelList out;
    for (const auto& r : core_.registry().list()) out.push_back(entry_of(r));
    emit modelsListed(out);
  } catch (const std::exception& e) {
    emit failed(QString::fromStdString(e.what()));
  }
}

void EngineWorker::generate(const ChatJob& job) {
  if (cancel_) {
    emit failed(tr("An answer is still streaming: stop it first."));
    return;
  }
  try {
    serving::ModelHost& host = core_.host();
    const QString name = QString::fromStdString(job.model_name);
    emit status(tr("Loading %1…").arg(name));
    serving::UseOptions use;
    use.local = true;  // the user picked this file from the registry
    auto m = host.acquire(job.model_path, use);
    job_ = job;
    std::vector<engine::ChatMessage> turns = job.history;
    if (job.question) turns.push_back({"user", *job.question});
    // The system prompt goes first unless the conversation has its own (one `rmm chat` stored).
    if (!job.params.system.empty() && (turns.empty() || turns.front().role != "system"))
      turns.insert(turns.begin(), {"system", job.params.system});
    const auto prompt = m->chat->format(turns, true);
    engine::GenerateRequest req;
    req.prompt = m->model->tokenize_prompt(prompt.text);
    req.stop.insert(req.stop.end(), prompt.additional_stops.begin(), prompt.additional_stops.end());
    req.max_tokens = job.params.max_tokens;
    req.sampling.temperature = job.params.temperature;
    req.sampling.top_p = job.params.top_p;
    req.sampling.seed = job.params.seed;
    // Every answer keeps its token events, so the token view shows any of them (and the streaming one).
    req.logprobs = true;
    req.top_logprobs = kAlternatives;
    for (const auto& e : job.prefix) req.continue_from.push_back(e.token);
    const QString prefix = job.prefix.empty()
                               ? QString()
                               : QString::fromStdString(engine::continue_from_text(*m->model, req).text);

    // The events, the fork's first: written on the engine thread, read back here once it is done.
    auto events = std::make_shared<std::vector<engine::TokenEvent>>(job.prefix);
    serving::GenerationCallbacks cb;
    // On the engine thread: never block there. Signals to the UI are queued.
    auto batcher = std::make_shared<TokenBatcher>();
    cb.on_token = [this, alive = alive_, events, batcher](const engine::TokenEvent& ev) {
      events->push_back(ev);
      TokenBatch batch;
      if (batcher->add(ev, batch) && alive->load()) emit tokensArrived(batch);
    };
    cb.on_done = [this, alive = alive_, events, batcher](const engine::GenerationResult& r) {
      if (!alive->load()) return;
      if (auto rest = batcher->take(); !rest.isEmpty()) emit tokensArrived(rest);
      QMetaObject::invokeMethod(
          this, [this, r, events] { finish(r, *events); }, Qt::QueuedConnection);
    };
    emit status(tr("Answering with %1").arg(name));
    emit answerStarted(name, prefix);
    cancel_ = serving::generate(host, m, std::move(req), cache::Policy{false, false}, std::move(cb));
  } catch (const std::exception& e) {
    emit failed(QString::fromStdString(e.what()));
  }
}

void EngineWorker::stop() {
  if (cancel_) cancel_();
}

void EngineWorker::finish(const engine::GenerationResult& r, const std::vector<engine::TokenEvent>& events) {
  cancel_ = nullptr;
  const QString id = QString::fromStdString(job_.conversation_id);
  if (r.stop_reason == engine::StopReason::Error) {
    emit failed(QString::fromStdString(r.error));
    return;
  }
  if (r.stop_reason == engine::StopReason::Cancelled && r.text.empty()) {
    // Stopped before a word: nothing to keep, nor the question.
    emit status(tr("Stopped"));
    emit answerFinished(QString(), id, QString::fromLatin1(codec::finish_reason(r.stop_reason)));
    return;
  }
  save(r, events);
  emit status(tr("%1 tokens, %2 tokens/s")
                  .arg(r.timings.generated_tokens)
                  .arg(r.timings.generation_tokens_per_second(), 0, 'f', 1));
  emit answerFinished(QString::fromStdString(r.text), QString::fromStdString(job_.conversation_id),
                      QString::fromLatin1(codec::finish_reason(r.stop_reason)));
}

// As the web UI and `rmm chat` store a turn: a new conversation gets the
// question and the answer in one go; a stored one the new messages as a
// chain under the job's parent (a sibling of an answer or a question when it
// is a regenerated, forked or edited one), which become its current leaf.
void EngineWorker::save(const engine::GenerationResult& r, const std::vector<engine::TokenEvent>& events) {
  try {
    store::Store& db = core_.store();
    auto answer = serving::answer_message(job_.model_name, r.text, r.timings, token_events_json(events));
    answer.fork_of = job_.fork_of;
    answer.fork_at = job_.fork_at;
    std::vector<store::ChatMessage> chain;
    if (job_.question) chain.push_back(serving::stored_message({"user", *job_.question}));
    chain.push_back(std::move(answer));
    if (job_.conversation_id.empty()) {
      store::Conversation c;
      c.id = serving::new_conversation_id();
      c.model = job_.model_name;
      c.title = serving::title_from(job_.question.value_or(r.text));
      c.messages = std::move(chain);
      db.create_conversation(c);
      job_.conversation_id = c.id;
    } else {
      db.append_messages(job_.conversation_id, chain, job_.parent);
    }
    if (auto c = db.get_conversation(job_.conversation_id)) emit conversationStored(*c);
  } catch (const std::exception& e) {
    emit failed(tr("The answer was not saved: %1").arg(QString::fromStdString(e.what())));
  }
}

}  // namespace rmm::desktop
