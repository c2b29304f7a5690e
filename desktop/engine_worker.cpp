#include "engine_worker.hpp"

#include <spdlog/spdlog.h>

#include <QMetaObject>
#include <nlohmann/json.hpp>

#include "serving/chat_messages.hpp"
#include "serving/generation.hpp"

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

QString reason_of(engine::StopReason r) {
  switch (r) {
    case engine::StopReason::Length: return QStringLiteral("length");
    case engine::StopReason::Cancelled: return QStringLiteral("cancelled");
    default: return QStringLiteral("stop");
  }
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

void EngineWorker::send(const QString& path, const QString& name, const QString& text, int maxTokens) {
  if (cancel_) {
    emit failed(tr("An answer is still streaming: stop it first."));
    return;
  }
  bool added = false;
  try {
    serving::ModelHost& host = core_.host();
    emit status(tr("Loading %1…").arg(name));
    serving::UseOptions use;
    use.local = true;  // the user picked this file from the registry
    auto m = host.acquire(path.toStdString(), use);
    if (!model_name_.empty() && model_name_ != name.toStdString() && !turns_.empty()) {
      spdlog::info("desktop: the conversation goes on with {}", name.toStdString());
    }
    model_name_ = name.toStdString();
    turns_.push_back({"user", text.toStdString()});
    added = true;
    const auto prompt = m->chat->format(turns_, true);
    engine::GenerateRequest req;
    req.prompt = m->model->tokenize_prompt(prompt.text);
    req.stop.insert(req.stop.end(), prompt.additional_stops.begin(), prompt.additional_stops.end());
    req.max_tokens = maxTokens;
    serving::GenerationCallbacks cb;
    // On the engine thread: never block there. Signals to the UI are queued.
    cb.on_token = [this, alive = alive_](const engine::TokenEvent& ev) {
      if (alive->load() && !ev.text.empty()) emit tokenArrived(QString::fromStdString(ev.text));
    };
    cb.on_done = [this, alive = alive_](const engine::GenerationResult& r) {
      if (!alive->load()) return;
      QMetaObject::invokeMethod(
          this, [this, r] { finish(r); }, Qt::QueuedConnection);
    };
    emit status(tr("Answering with %1").arg(name));
    emit answerStarted(name);
    cancel_ = serving::generate(host, m, std::move(req), cache::Policy{false, false}, std::move(cb));
  } catch (const std::exception& e) {
    if (added) turns_.pop_back();
    emit failed(QString::fromStdString(e.what()));
  }
}

void EngineWorker::stop() {
  if (cancel_) cancel_();
}

void EngineWorker::newConversation() {
  if (cancel_) cancel_();
  turns_.clear();
  conversation_id_.clear();
}

void EngineWorker::finish(const engine::GenerationResult& r) {
  cancel_ = nullptr;
  if (r.stop_reason == engine::StopReason::Error) {
    if (!turns_.empty()) turns_.pop_back();
    emit failed(QString::fromStdString(r.error));
    return;
  }
  if (r.stop_reason == engine::StopReason::Cancelled && r.text.empty()) {
    // Stopped before a word: nothing to keep, the question goes as well.
    if (!turns_.empty()) turns_.pop_back();
    emit status(tr("Stopped"));
    emit answerFinished(QString(), QString::fromStdString(conversation_id_), reason_of(r.stop_reason));
    return;
  }
  turns_.push_back({"assistant", r.text});
  save(r.text, r);
  emit status(tr("%1 tokens, %2 tokens/s")
                  .arg(r.timings.generated_tokens)
                  .arg(r.timings.generation_tokens_per_second(), 0, 'f', 1));
  emit answerFinished(QString::fromStdString(r.text), QString::fromStdString(conversation_id_),
                      reason_of(r.stop_reason));
}

// As `rmm chat` stores a turn: a new conversation gets every message and the
// answer in one go; a stored one the user message and the answer after its
// current leaf. The web UI and /api/chat/history read the same tree.
void EngineWorker::save(const std::string& answer, const engine::GenerationResult& r) {
  try {
    store::Store& db = core_.store();
    if (conversation_id_.empty()) {
      store::Conversation c;
      c.id = serving::new_conversation_id();
      c.model = model_name_;
      for (size_t i = 0; i + 1 < turns_.size(); ++i) {
        if (c.title.empty() && turns_[i].role == "user") c.title = serving::title_from(turns_[i].content);
        c.messages.push_back(serving::stored_message(turns_[i]));
      }
      c.messages.push_back(serving::answer_message(model_name_, answer, r.timings));
      db.create_conversation(c);
      conversation_id_ = c.id;
    } else {
      const auto& question = turns_[turns_.size() - 2];
      db.append_messages(conversation_id_, {serving::stored_message(question),
                                            serving::answer_message(model_name_, answer, r.timings)});
    }
  } catch (const std::exception& e) {
    emit failed(tr("The answer was not saved: %1").arg(QString::fromStdString(e.what())));
  }
}

}  // namespace rmm::desktop
