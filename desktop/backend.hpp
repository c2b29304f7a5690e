#pragma once
// The UI thread's handle on the engine: owns the worker thread and the
// EngineWorker on it. Every call returns at once (it is queued to the
// worker); results come back as queued signals.
#include <QObject>
#include <QThread>

#include "model_entry.hpp"

namespace rmm::desktop {

class EngineWorker;

class Backend : public QObject {
  Q_OBJECT

 public:
  explicit Backend(QObject* parent = nullptr);
  ~Backend() override;  // stops the answer in progress and joins the worker thread

  void refreshModels();
  void send(const ModelEntry& model, const QString& text, int maxTokens);
  void stop();
  void newConversation();
  bool busy() const { return busy_; }

 signals:
  void modelsListed(const rmm::desktop::ModelList& models);
  void status(const QString& message);
  void busyChanged(bool busy);
  void answerStarted(const QString& model);
  void tokenArrived(const QString& text);
  void answerFinished(const QString& text, const QString& conversationId, const QString& reason);
  void failed(const QString& message);

 private:
  void setBusy(bool busy);

  QThread thread_;
  EngineWorker* worker_ = nullptr;  // lives on thread_, deleted when it ends
  bool busy_ = false;
};

}  // namespace rmm::desktop
