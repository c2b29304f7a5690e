#include "backend.hpp"

#include "engine_worker.hpp"

namespace rmm::desktop {

Backend::Backend(QObject* parent) : QObject(parent) {
  qRegisterMetaType<ModelEntry>();
  qRegisterMetaType<ModelList>();
  thread_.setObjectName(QStringLiteral("rmm-engine-worker"));
  worker_ = new EngineWorker;
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  // Signal to signal: queued, since the worker (and the engine) emit on their own threads.
  connect(worker_, &EngineWorker::modelsListed, this, &Backend::modelsListed);
  connect(worker_, &EngineWorker::status, this, &Backend::status);
  connect(worker_, &EngineWorker::answerStarted, this, &Backend::answerStarted);
  connect(worker_, &EngineWorker::tokenArrived, this, &Backend::tokenArrived);
  connect(worker_, &EngineWorker::answerFinished, this,
          [this](const QString& text, const QString& id, const QString& reason) {
            setBusy(false);
            emit answerFinished(text, id, reason);
          });
  connect(worker_, &EngineWorker::failed, this, [this](const QString& message) {
    setBusy(false);
    emit failed(message);
  });
  thread_.start();
}

Backend::~Backend() {
  stop();
  thread_.quit();
  thread_.wait();
}

void Backend::refreshModels() {
  QMetaObject::invokeMethod(worker_, &EngineWorker::listModels, Qt::QueuedConnection);
}

void Backend::send(const ModelEntry& model, const QString& text, int maxTokens) {
  setBusy(true);
  QMetaObject::invokeMethod(
      worker_,
      [w = worker_, path = model.path, name = model.name, text, maxTokens] {
        w->send(path, name, text, maxTokens);
      },
      Qt::QueuedConnection);
}

void Backend::stop() { QMetaObject::invokeMethod(worker_, &EngineWorker::stop, Qt::QueuedConnection); }

void Backend::newConversation() {
  QMetaObject::invokeMethod(worker_, &EngineWorker::newConversation, Qt::QueuedConnection);
}

void Backend::setBusy(bool busy) {
  if (busy_ == busy) return;
  busy_ = busy;
  emit busyChanged(busy);
}

}  // namespace rmm::desktop
