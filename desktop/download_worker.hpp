#pragma once
// One `rmm pull` at a time for the desktop: hub::pull on a thread of its own
// (a download takes minutes; the backend's worker thread must stay free),
// with the Hub endpoint and token from the environment as `rmm pull` takes
// them. Signals are emitted from that thread and reach receivers queued.
// Cancel stops it within a moment; the partial file stays as .part and the
// next pull of the same spec resumes it.
#include <QObject>
#include <QString>
#include <atomic>
#include <thread>

namespace rmm::desktop {

class DownloadWorker : public QObject {
  Q_OBJECT

 public:
  explicit DownloadWorker(QObject* parent = nullptr);
  ~DownloadWorker() override;  // cancels the pull and waits for its thread

  // Pulls `spec` (OWNER/REPO[:QUANT] or a file URL) into `modelsDir`; false
  // when a pull is still running.
  bool start(const QString& spec, const QString& modelsDir);
  void cancel();
  bool running() const { return running_.load(); }

 signals:
  void planned(const QString& repo, const QString& quant, qint64 bytesToFetch, int files);
  void fileStarted(int index, int count, const QString& name);
  // `etaSeconds` -1 when unknown.
  void progressed(qint64 done, qint64 total, double bytesPerSecond, double etaSeconds);
  // Every file verified: the model file and its sha256.
  void finished(const QString& modelPath, const QString& sha256);
  void cancelled();
  void failed(const QString& message);

 private:
  void run(const std::string& spec, const std::string& modelsDir);

  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_{false};
};

}  // namespace rmm::desktop
