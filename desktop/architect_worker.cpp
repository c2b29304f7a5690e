#include "architect_worker.hpp"

#include <QMetaObject>
#include <nlohmann/json.hpp>

#include "codec/generation_json.hpp"
#include "codec/parameters_json.hpp"
#include "serving/generation.hpp"

namespace rmm::desktop {

using json = nlohmann::json;

ArchitectWorker::ArchitectWorker(AppCore& core) : core_(core) {}

ArchitectWorker::~ArchitectWorker() {
  alive_->store(false);
  if (cancel_) cancel_();
}

void ArchitectWorker::generate(const QString& path, const QString& name, const QString& messages,
                               const QString& params) {
  if (cancel_) {
    emit failed(tr("An answer is still streaming: stop it first."));
    return;
  }
  try {
    serving::ModelHost& host = core_.host();
    serving::UseOptions use;
    use.local = true;  // picked from the registry
    auto m = host.acquire(path.toStdString(), use);
    std::vector<engine::ChatMessage> turns;
    for (const auto& msg : json::parse(messages.toStdString()))
      turns.push_back({msg.at("role").get<std::string>(), msg.at("content").get<std::string>()});
    const auto prompt = m->chat->format(turns, true);
    engine::GenerateRequest req;
    req.prompt = m->model->tokenize_prompt(prompt.text);
    req.stop.insert(req.stop.end(), prompt.additional_stops.begin(), prompt.additional_stops.end());
    // The parameters block's table fields (temperature, top_p, seed, max_tokens, stop, ...);
    // response_format and model belong to the HTTP API.
    codec::read_parameters(json::parse(params.toStdString()), req, "parameters.");
    serving::GenerationCallbacks cb;
    // On the engine thread: never block there; signals to the UI are queued.
    cb.on_token = [this, alive = alive_](const engine::TokenEvent& ev) {
      if (alive->load() && !ev.text.empty()) emit tokenArrived(QString::fromStdString(ev.text));
    };
    cb.on_done = [this, alive = alive_](const engine::GenerationResult& r) {
      if (!alive->load()) return;
      QMetaObject::invokeMethod(
          this, [this, r] { finish(r); }, Qt::QueuedConnection);
    };
    emit started(name);
    cancel_ = serving::generate(host, m, std::move(req), cache::Policy{false, false}, std::move(cb));
  } catch (const std::exception& e) {
    emit failed(QString::fromStdString(e.what()));
  }
}

void ArchitectWorker::stop() {
  if (cancel_) cancel_();
}

void ArchitectWorker::finish(const engine::GenerationResult& r) {
  cancel_ = nullptr;
  if (r.stop_reason == engine::StopReason::Error) {
    emit failed(QString::fromStdString(r.error));
    return;
  }
  emit finished(QString::fromStdString(r.text), QString::fromLatin1(codec::finish_reason(r.stop_reason)),
                r.timings.generated_tokens);
}

}  // namespace rmm::desktop
