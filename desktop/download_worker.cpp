#include "download_worker.hpp"

#include <chrono>

#include "core/error.hpp"
#include "models/hub/pull.hpp"

namespace rmm::desktop {

DownloadWorker::DownloadWorker(QObject* parent) : QObject(parent) {}

DownloadWorker::~DownloadWorker() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

bool DownloadWorker::start(const QString& spec, const QString& modelsDir) {
  if (running_) return false;
  if (thread_.joinable()) thread_.join();  // the last one has ended
  stop_ = false;
  running_ = true;
  thread_ = std::thread([this, s = spec.toStdString(), d = modelsDir.toStdString()] { run(s, d); });
  return true;
}

void DownloadWorker::cancel() { stop_ = true; }

void DownloadWorker::run(const std::string& spec, const std::string& modelsDir) {
  hub::PullRequest req;
  req.spec = spec;
  req.models_dir = modelsDir;
  hub::PullOptions opt;
  opt.hub = hub::HubConfig::from_env();  // RMM_HF_ENDPOINT / HF_ENDPOINT and HF_TOKEN, as `rmm pull`
  opt.keep_going = [this] { return !stop_.load(); };
  size_t count = 0;
  opt.on_plan = [&](const hub::PullPlan& plan) {
    count = plan.files.size();
    emit planned(QString::fromStdString(plan.repo), QString::fromStdString(plan.quant),
                 static_cast<qint64>(plan.bytes_to_fetch), static_cast<int>(count));
  };
  opt.on_file = [&](size_t i, const hub::PulledFile& f) {
    emit fileStarted(static_cast<int>(i), static_cast<int>(count),
                     QString::fromStdString(f.path.filename().string()));
  };
  // At most ten updates a second: the UI thread gets a queued event for each.
  auto last = std::chrono::steady_clock::time_point{};
  opt.on_progress = [&](size_t, const download::Progress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::milliseconds(100) && p.done != p.total) return;
    last = now;
    emit progressed(static_cast<qint64>(p.done), static_cast<qint64>(p.total), p.bytes_per_second,
                    p.eta_seconds);
  };
  try {
    const auto result = hub::pull(req, opt);
    QString sha;
    for (const auto& f : result.files) {
      if (f.path == result.model_path()) sha = QString::fromStdString(f.sha256);
    }
    running_ = false;
    emit finished(QString::fromStdString(result.model_path().string()), sha);
  } catch (const Error& e) {
    running_ = false;
    if (e.kind() == ErrorKind::Cancelled || stop_)
      emit cancelled();
    else
      emit failed(QString::fromStdString(e.what()));
  } catch (const std::exception& e) {
    running_ = false;
    emit failed(QString::fromStdString(e.what()));
  }
}

}  // namespace rmm::desktop
