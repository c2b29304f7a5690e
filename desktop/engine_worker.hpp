#pragma once
// Lives on the backend's worker thread and writes the chat's answers through
// the AppCore there (store, registry, model host). Its slots run there; its
// signals reach the UI queued. Token and done callbacks come from the
// engine's own thread: tokens are emitted from there as they are (queued to
// the UI), the end of an answer is handed back to this thread, which stores
// it in the conversation tree before it says the answer is complete.
#include <QObject>
#include <QString>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "app_core.hpp"
#include "cache/response_cache.hpp"
#include "chat_types.hpp"
#include "model_entry.hpp"
#include "token_batch.hpp"

namespace rmm::desktop {

class EngineWorker : public QObject {
  Q_OBJECT

 public:
  explicit EngineWorker(AppCore& core);
  ~EngineWorker() override;

 public slots:
  // Scans the models folders and lists the registry (modelsListed).
  void listModels();
  // Loads the job's model when needed and writes its answer (with token
  // events: log-probabilities, alternatives and entropy, for the token view).
  void generate(const rmm::desktop::ChatJob& job);
  void stop();

 signals:
  void modelsListed(const rmm::desktop::ModelList& models);
  void status(const QString& message);
  // `prefix`: the text a fork's answer starts with (its events came with the job).
  void answerStarted(const QString& model, const QString& prefix);
  void tokensArrived(const rmm::desktop::TokenBatch& events);  // in order, batched (token_batch.hpp)
  // `reason`: stop (end or stop string), length, cancelled.
  void answerFinished(const QString& text, const QString& conversationId, const QString& reason);
  // The conversation as stored after an answer (all branches).
  void conversationStored(const rmm::store::Conversation& conversation);
  void failed(const QString& message);

 private:
  void finish(const engine::GenerationResult& r, const std::vector<engine::TokenEvent>& events);
  void save(const engine::GenerationResult& r, const std::vector<engine::TokenEvent>& events);

  AppCore& core_;
  cache::Canceller cancel_;  // set while an answer streams
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
  ChatJob job_;  // the answer in progress
};

}  // namespace rmm::desktop
