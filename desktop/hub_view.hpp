#pragma once
// The Models screen's Hugging Face tab: search the Hub for GGUF repos (as
// `rmm search`), pull one into the models folder (as `rmm pull`: the best
// quantization, or OWNER/REPO:QUANT) with progress, bytes and speed, Cancel
// (the partial file stays) and Resume (the next pull goes on from it).
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace rmm::desktop {

class Backend;
class DownloadWorker;

class HubView : public QWidget {
  Q_OBJECT

 public:
  explicit HubView(Backend& backend, QWidget* parent = nullptr);

  void search(const QString& query);
  void download(const QString& spec);
  void cancel();
  void resume();  // the last pull again, from its partial files
  DownloadWorker& worker() { return *worker_; }
  const QTableWidget& results() const { return *results_; }
  // Selects search result `row`: its quantizations are listed to choose from.
  void selectResult(int row);
  const QComboBox& quants() const { return *quant_; }
  QString status() const;

 signals:
  void searched(int hits);
  void quantsListed(int count);
  // A pull finished: its model file is in the models folder.
  void downloaded(const QString& modelPath, const QString& sha256);

 private:
  void show_hits(const QVariantList& hits);
  void list_quants(const QString& repo);
  void start();
  void set_running(bool running);

  Backend& backend_;
  DownloadWorker* worker_;
  QString spec_;        // the pull in progress or last stopped
  QString models_dir_;  // asked of the core once
  QLineEdit* query_;
  QPushButton* search_;
  QTableWidget* results_;
  QComboBox* quant_;
  QString repo_;  // the selected result
  QLineEdit* spec_edit_;
  QPushButton* download_;
  QPushButton* cancel_;
  QPushButton* resume_;
  QProgressBar* progress_;
  QLabel* status_;
};

}  // namespace rmm::desktop
