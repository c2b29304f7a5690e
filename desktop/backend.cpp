#include "backend.hpp"

#include "engine_worker.hpp"

namespace rmm::desktop {

Backend::Backend(QObject* parent) : QObject(parent), core_(std::make_unique<AppCore>()) {
  qRegisterMetaType<ModelEntry>();
  qRegisterMetaType<ModelList>();
  qRegisterMetaType<engine::TokenEvent>();
  qRegisterMetaType<TokenBatch>();
  qRegisterMetaType<store::Conversation>();
  qRegisterMetaType<ChatJob>();
  thread_.setObjectName(QStringLiteral("rmm-engine-worker"));
  jobs_ = new QObject;
  jobs_->moveToThread(&thread_);
  worker_ = new EngineWorker(*core_);
  worker_->moveToThread(&thread_);
  // Signal to signal: queued, since the worker (and the engine) emit on their own threads.
  connect(worker_, &EngineWorker::modelsListed, this, &Backend::modelsListed);
  connect(worker_, &EngineWorker::status, this, &Backend::status);
  connect(worker_, &EngineWorker::answerStarted, this, &Backend::answerStarted);
  connect(worker_, &EngineWorker::tokensArrived, this, &Backend::tokensArrived);
  connect(worker_, &EngineWorker::conversationStored, this, &Backend::conversationStored);
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
  // The worker objects and the core go on their own thread, the workers
  // first: their engine callbacks point into the core.
  QMetaObject::invokeMethod(
      jobs_,
      [this] {
        delete worker_;
        worker_ = nullptr;
        core_.reset();
        delete jobs_;
        jobs_ = nullptr;
      },
      Qt::BlockingQueuedConnection);
  thread_.quit();
  thread_.wait();
}

void Backend::post(std::function<void(AppCore&)> job) {
  QMetaObject::invokeMethod(
      jobs_, [this, job = std::move(job)] { job(*core_); }, Qt::QueuedConnection);
}

void Backend::deliver(QPointer<QObject> receiver, std::function<void()> fn) {
  QMetaObject::invokeMethod(
      this,
      [receiver, fn = std::move(fn)] {
        if (receiver) fn();
      },
      Qt::QueuedConnection);
}

void Backend::refreshModels() {
  QMetaObject::invokeMethod(worker_, &EngineWorker::listModels, Qt::QueuedConnection);
}

void Backend::generate(const ChatJob& job) {
  setBusy(true);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, job] { w->generate(job); }, Qt::QueuedConnection);
}

void Backend::stop() { QMetaObject::invokeMethod(worker_, &EngineWorker::stop, Qt::QueuedConnection); }

void Backend::setBusy(bool busy) {
  if (busy_ == busy) return;
  busy_ = busy;
  emit busyChanged(busy);
}

}  // namespace rmm::desktop
