#pragma once
// Runs a Prompt Architect rendering on a model: lives on the backend's worker
// thread (moved there by the Architect screen) and reaches the model host
// through the AppCore there, as EngineWorker does for the chat. Token
// callbacks come from the engine's thread and are emitted from there (queued
// to the UI); the end of an answer is handed back to this thread first.
#include <QObject>
#include <QString>
#include <atomic>
#include <memory>

#include "app_core.hpp"
#include "cache/response_cache.hpp"
#include "engine/generation.hpp"

namespace rmm::desktop {

class ArchitectWorker : public QObject {
  Q_OBJECT

 public:
  explicit ArchitectWorker(AppCore& core);
  ~ArchitectWorker() override;

 public slots:
  // `messages`: the rendered [{role, content}] as JSON text; `params`: the
  // parameters block's object (temperature, max_tokens, top_p, seed, stop).
  void generate(const QString& path, const QString& name, const QString& messages, const QString& params);
  void stop();

 signals:
  void started(const QString& model);
  void tokenArrived(const QString& text);
  // `reason`: stop, length or cancelled; `tokens`: how many were generated.
  void finished(const QString& text, const QString& reason, int tokens);
  void failed(const QString& message);

 private:
  void finish(const engine::GenerationResult& r);

  AppCore& core_;
  cache::Canceller cancel_;  // set while an answer streams
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace rmm::desktop
