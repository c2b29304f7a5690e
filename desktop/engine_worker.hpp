#pragma once
// Lives on the backend's worker thread and answers the chat through the
// AppCore there (store, registry, model host). Its slots run there; its
// signals reach the UI queued. Token and done callbacks come from the
// engine's own thread: tokens are emitted from there as they are (queued
// to the UI), the end of an answer is handed back to this thread, which
// stores the exchange before it says the answer is complete.
#include <QObject>
#include <QString>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app_core.hpp"
#include "cache/response_cache.hpp"
#include "engine/chat_format.hpp"
#include "engine/generation.hpp"
#include "model_entry.hpp"

namespace rmm::desktop {

class EngineWorker : public QObject {
  Q_OBJECT

 public:
  explicit EngineWorker(AppCore& core);
  ~EngineWorker() override;

 public slots:
  // Scans the models folders and lists the registry (modelsListed).
  void listModels();
  // Loads `path` when needed and answers `text` after the conversation so far.
  void send(const QString& path, const QString& name, const QString& text, int maxTokens);
  void stop();
  // The next message starts a new conversation.
  void newConversation();

 signals:
  void modelsListed(const rmm::desktop::ModelList& models);
  void status(const QString& message);
  void answerStarted(const QString& model);
  void tokenArrived(const QString& text);
  // `reason`: stop (end or stop string), length, cancelled.
  void answerFinished(const QString& text, const QString& conversationId, const QString& reason);
  void failed(const QString& message);

 private:
  void finish(const engine::GenerationResult& r);
  void save(const std::string& answer, const engine::GenerationResult& r);

  AppCore& core_;
  cache::Canceller cancel_;  // set while an answer streams
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
  std::string model_name_;                  // who writes the answer in progress
  std::vector<engine::ChatMessage> turns_;  // the conversation in view
  std::string conversation_id_;             // "" until its first answer is stored
};

}  // namespace rmm::desktop
