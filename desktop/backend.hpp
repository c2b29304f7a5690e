#pragma once
// The UI thread's handle on the core: owns the worker thread, the AppCore
// that lives on it and the EngineWorker (chat generation) there. Every call
// returns at once (it is queued to the worker thread); results come back as
// queued signals, or to a callback on the UI thread (call()).
#include <QObject>
#include <QPointer>
#include <QThread>
#include <exception>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "app_core.hpp"
#include "chat_types.hpp"
#include "model_entry.hpp"
#include "token_batch.hpp"

namespace rmm::desktop {

class EngineWorker;

class Backend : public QObject {
  Q_OBJECT

 public:
  explicit Backend(QObject* parent = nullptr);
  ~Backend() override;  // stops the answer in progress, closes the core on its thread, joins it

  // Runs `work(AppCore&)` on the worker thread, then `done(result)` on the UI
  // thread, or `fail(message)` when work threw. Neither runs once `receiver`
  // is gone. The UI thread never waits for it.
  template <class Work, class Done, class Fail>
  void call(QObject* receiver, Work work, Done done, Fail fail);
  // As above; a failure is reported through the failed() signal.
  template <class Work, class Done>
  void call(QObject* receiver, Work work, Done done) {
    call(receiver, std::move(work), std::move(done), [this](const QString& m) { emit failed(m); });
  }

  // The worker thread, for objects that must live there (they reach the core
  // through core(), which only that thread may use).
  QThread& workerThread() { return thread_; }
  AppCore& core() { return *core_; }

  void refreshModels();
  // The chat: writes one answer (EngineWorker::generate); busy until it is finished.
  void generate(const ChatJob& job);
  void stop();
  bool busy() const { return busy_; }

 signals:
  void modelsListed(const rmm::desktop::ModelList& models);
  void status(const QString& message);
  void busyChanged(bool busy);
  void answerStarted(const QString& model, const QString& prefix);
  void tokensArrived(const rmm::desktop::TokenBatch& events);  // in order, batched (token_batch.hpp)
  void answerFinished(const QString& text, const QString& conversationId, const QString& reason);
  void conversationStored(const rmm::store::Conversation& conversation);
  void failed(const QString& message);

 private:
  void post(std::function<void(AppCore&)> job);                        // to the worker thread
  void deliver(QPointer<QObject> receiver, std::function<void()> fn);  // to the UI thread
  void setBusy(bool busy);

  QThread thread_;
  std::unique_ptr<AppCore> core_;
  QObject* jobs_ = nullptr;         // lives on thread_: the context jobs are queued to
  EngineWorker* worker_ = nullptr;  // lives on thread_
  bool busy_ = false;
};

template <class Work, class Done, class Fail>
void Backend::call(QObject* receiver, Work work, Done done, Fail fail) {
  using Result = std::invoke_result_t<Work&, AppCore&>;
  QPointer<QObject> guard(receiver);
  // std::function wants copies: the callables are shared, not copied.
  auto w = std::make_shared<Work>(std::move(work));
  auto d = std::make_shared<Done>(std::move(done));
  auto f = std::make_shared<Fail>(std::move(fail));
  post([this, guard, w, d, f](AppCore& core) {
    try {
      if constexpr (std::is_void_v<Result>) {
        (*w)(core);
        deliver(guard, [d] { (*d)(); });
      } else {
        auto r = std::make_shared<Result>((*w)(core));
        deliver(guard, [d, r] { (*d)(std::move(*r)); });
      }
    } catch (const std::exception& e) {
      deliver(guard, [f, m = QString::fromStdString(e.what())] { (*f)(m); });
    }
  });
}

}  // namespace rmm::desktop
