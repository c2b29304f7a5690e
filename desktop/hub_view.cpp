#include "hub_view.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <map>

#include "backend.hpp"
#include "download_worker.hpp"
#include "model_table.hpp"
#include "models/hub/hub_client.hpp"
#include "models/hub/quant_select.hpp"
#include "padded_cell_delegate.hpp"
#include "plain_label.hpp"

namespace rmm::desktop {

namespace {

enum HitColumn { Repo, Downloads, Likes, Updated, HitColumns };

QTableWidgetItem* cell(const QString& text, bool number) {
  auto* item = new QTableWidgetItem(text);
  item->setTextAlignment(Qt::AlignVCenter | (number ? Qt::AlignRight : Qt::AlignLeft));
  return item;
}

}  // namespace

HubView::HubView(Backend& backend, QWidget* parent)
    : QWidget(parent),
      backend_(backend),
      worker_(new DownloadWorker(this)),
      query_(new QLineEdit),
      search_(new QPushButton(tr("Search"))),
      results_(new QTableWidget(0, HitColumns)),
      quant_(new QComboBox),
      spec_edit_(new QLineEdit),
      download_(new QPushButton(tr("Download"))),
      cancel_(new QPushButton(tr("Cancel"))),
      resume_(new QPushButton(tr("Resume"))),
      progress_(new QProgressBar),
      status_(plain_label()) {
  query_->setObjectName(QStringLiteral("hubQuery"));
  query_->setPlaceholderText(tr("Search GGUF models on Hugging Face, e.g. qwen2.5 instruct"));
  query_->setClearButtonEnabled(true);
  search_->setObjectName(QStringLiteral("hubSearch"));
  search_->setDefault(true);
  auto* top = new QHBoxLayout;
  top->addWidget(query_, 1);
  top->addWidget(search_);

  results_->setObjectName(QStringLiteral("hubResults"));
  results_->setHorizontalHeaderLabels({tr("Repository"), tr("Downloads"), tr("Likes"), tr("Updated")});
  results_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  results_->setSelectionBehavior(QAbstractItemView::SelectRows);
  results_->setSelectionMode(QAbstractItemView::SingleSelection);
  results_->setAlternatingRowColors(true);
  results_->setShowGrid(false);
  results_->setWordWrap(false);
  results_->verticalHeader()->hide();
  results_->verticalHeader()->setDefaultSectionSize(results_->fontMetrics().height() + 14);
  const int em = results_->fontMetrics().horizontalAdvance(QLatin1Char('M'));
  results_->setItemDelegate(new PaddedCellDelegate(em / 2, results_));
  QHeaderView* header = results_->horizontalHeader();
  header->setHighlightSections(false);
  header->setMinimumHeight(results_->fontMetrics().height() + 12);
  header->setSectionResizeMode(Repo, QHeaderView::Stretch);
  header->resizeSection(Downloads, 10 * em);
  header->resizeSection(Likes, 6 * em);
  header->resizeSection(Updated, 9 * em);
  for (int c : {Downloads, Likes})
    results_->horizontalHeaderItem(c)->setTextAlignment(Qt::AlignVCenter | Qt::AlignRight);
  for (int c : {Repo, Updated})
    results_->horizontalHeaderItem(c)->setTextAlignment(Qt::AlignVCenter | Qt::AlignLeft);

  spec_edit_->setObjectName(QStringLiteral("hubSpec"));
  spec_edit_->setPlaceholderText(tr("OWNER/REPO[:QUANT] or a file URL"));
  download_->setObjectName(QStringLiteral("hubDownload"));
  cancel_->setObjectName(QStringLiteral("hubCancel"));
  resume_->setObjectName(QStringLiteral("hubResume"));
  quant_->setObjectName(QStringLiteral("hubQuant"));
  quant_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  quant_->setEnabled(false);
  auto* pull = new QHBoxLayout;
  pull->addWidget(quant_);
  pull->addWidget(spec_edit_, 1);
  pull->addWidget(download_);
  pull->addWidget(cancel_);
  pull->addWidget(resume_);

  progress_->setObjectName(QStringLiteral("hubProgress"));
  progress_->setRange(0, 1000);
  progress_->setTextVisible(false);
  progress_->setMaximumHeight(8);
  status_->setObjectName(QStringLiteral("hubStatus"));
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 8, 0, 0);
  layout->setSpacing(10);
  layout->addLayout(top);
  layout->addWidget(results_, 1);
  layout->addLayout(pull);
  layout->addWidget(progress_);
  layout->addWidget(status_);
  set_running(false);
  resume_->setEnabled(false);

  connect(search_, &QPushButton::clicked, this, [this] { search(query_->text()); });
  connect(query_, &QLineEdit::returnPressed, this, [this] { search(query_->text()); });
  connect(results_, &QTableWidget::itemSelectionChanged, this, [this] {
    const auto rows = results_->selectionModel()->selectedRows();
    if (rows.isEmpty()) return;
    repo_ = results_->item(rows.first().row(), Repo)->text();
    spec_edit_->setText(repo_);
    list_quants(repo_);
  });
  connect(quant_, &QComboBox::activated, this, [this] {
    const QString q = quant_->currentData().toString();
    spec_edit_->setText(q.isEmpty() ? repo_ : repo_ + QLatin1Char(':') + q);
  });
  connect(download_, &QPushButton::clicked, this, [this] { download(spec_edit_->text()); });
  connect(cancel_, &QPushButton::clicked, this, &HubView::cancel);
  connect(resume_, &QPushButton::clicked, this, &HubView::resume);

  connect(worker_, &DownloadWorker::planned, this,
          [this](const QString& repo, const QString& quant, qint64 bytes, int) {
            status_->setText(tr("Pulling %1%2: %3 to fetch")
                                 .arg(repo.isEmpty() ? spec_ : repo,
                                      quant.isEmpty() ? QString() : QStringLiteral(" ") + quant,
                                      format_bytes(bytes)));
          });
  connect(worker_, &DownloadWorker::fileStarted, this, [this](int i, int count, const QString& name) {
    status_->setText(count > 1 ? tr("%1 (file %2 of %3)").arg(name).arg(i + 1).arg(count) : name);
  });
  connect(worker_, &DownloadWorker::progressed, this,
          [this](qint64 done, qint64 total, double speed, double eta) {
            if (total > 0) progress_->setValue(static_cast<int>(1000.0 * static_cast<double>(done) / total));
            QString text =
                total > 0 ? tr("%1 of %2").arg(format_bytes(done), format_bytes(total)) : format_bytes(done);
            if (speed > 0)
              text += QStringLiteral(" · ") + format_bytes(static_cast<qint64>(speed)) + tr("/s");
            if (eta >= 0 && done < total) {
              const int s = static_cast<int>(eta + 0.5);
              text += QStringLiteral(" · ") +
                      (s >= 60 ? tr("%1 min %2 s left").arg(s / 60).arg(s % 60) : tr("%1 s left").arg(s));
            }
            status_->setText(text);
          });
  connect(worker_, &DownloadWorker::finished, this, [this](const QString& path, const QString& sha) {
    set_running(false);
    resume_->setEnabled(false);
    progress_->setValue(progress_->maximum());
    status_->setText(tr("Downloaded %1").arg(path));
    emit downloaded(path, sha);
  });
  connect(worker_, &DownloadWorker::cancelled, this, [this] {
    set_running(false);
    resume_->setEnabled(true);
    status_->setText(tr("Cancelled: the partial download is kept, Resume goes on from it."));
  });
  connect(worker_, &DownloadWorker::failed, this, [this](const QString& m) {
    set_running(false);
    resume_->setEnabled(true);
    status_->setText(tr("Failed: %1").arg(m));
  });
}

QString HubView::status() const { return status_->text(); }

void HubView::search(const QString& query) {
  if (query.trimmed().isEmpty()) return;
  if (query_->text() != query) query_->setText(query);
  search_->setEnabled(false);
  status_->setText(tr("Searching…"));
  // A short request; on the worker thread like every other core call.
  backend_.call(
      this,
      [q = query.trimmed().toStdString()](AppCore&) {
        QVariantList out;
        for (const auto& h : hub::search_models(hub::HubConfig::from_env(), q, 50)) {
          out << QVariant(QVariantList{QString::fromStdString(h.id), static_cast<qulonglong>(h.downloads),
                                       static_cast<qulonglong>(h.likes),
                                       QString::fromStdString(h.last_modified)});
        }
        return out;
      },
      [this](const QVariantList& hits) {
        search_->setEnabled(true);
        show_hits(hits);
      },
      [this](const QString& m) {
        search_->setEnabled(true);
        status_->setText(tr("Search failed: %1").arg(m));
      });
}

void HubView::show_hits(const QVariantList& hits) {
  results_->setRowCount(0);
  results_->setRowCount(static_cast<int>(hits.size()));
  for (int r = 0; r < hits.size(); ++r) {
    const auto h = hits[r].toList();
    results_->setItem(r, Repo, cell(h[0].toString(), false));
    results_->setItem(r, Downloads, cell(format_number(static_cast<qint64>(h[1].toULongLong())), true));
    results_->setItem(r, Likes, cell(format_number(static_cast<qint64>(h[2].toULongLong())), true));
    results_->setItem(r, Updated, cell(h[3].toString().left(10), false));
  }
  status_->setText(hits.isEmpty()     ? tr("No GGUF repos match.")
                   : hits.size() == 1 ? tr("1 repo")
                                      : tr("%1 repos").arg(hits.size()));
  emit searched(static_cast<int>(hits.size()));
}

void HubView::selectResult(int row) { results_->selectRow(row); }

void HubView::list_quants(const QString& repo) {
  quant_->clear();
  quant_->addItem(tr("Best quantization"), QString());
  quant_->setEnabled(false);
  backend_.call(
      this,
      [r = repo.toStdString()](AppCore&) {
        // Each quantization's model files (a split set counts as one), with their bytes.
        std::map<std::string, qint64> sizes;
        for (const auto& f : hub::list_repo_files(hub::HubConfig::from_env(), r, "main")) {
          const auto name = f.path.substr(f.path.rfind('/') + 1);
          if (name.size() < 5 || name.substr(name.size() - 5) != ".gguf" || hub::is_mmproj(f.path)) continue;
          if (const auto q = hub::parse_quant(name)) sizes[*q] += static_cast<qint64>(f.size);
        }
        QVariantList out;
        for (const auto& [q, bytes] : sizes) out << QVariant(QVariantList{QString::fromStdString(q), bytes});
        return out;
      },
      [this, repo](const QVariantList& quants) {
        if (repo != repo_) return;
        for (const auto& v : quants) {
          const auto q = v.toList();
          quant_->addItem(QStringLiteral("%1 · %2").arg(q[0].toString(), format_bytes(q[1].toLongLong())),
                          q[0].toString());
        }
        quant_->setEnabled(!worker_->running());
        emit quantsListed(static_cast<int>(quants.size()));
      },
      [this](const QString& m) { status_->setText(tr("Cannot list the repo's files: %1").arg(m)); });
}

void HubView::download(const QString& spec) {
  if (spec.trimmed().isEmpty() || worker_->running()) return;
  spec_ = spec.trimmed();
  spec_edit_->setText(spec_);
  // The quantization list shows what the spec asks for.
  const QString quant = spec_.startsWith(repo_ + QLatin1Char(':')) ? spec_.mid(repo_.size() + 1) : QString();
  quant_->setCurrentIndex(std::max(quant_->findData(quant), 0));
  start();
}

void HubView::resume() {
  if (!spec_.isEmpty()) start();
}

void HubView::cancel() {
  worker_->cancel();
  status_->setText(tr("Cancelling…"));
}

void HubView::start() {
  set_running(true);
  resume_->setEnabled(false);
  progress_->setValue(0);
  status_->setText(tr("Starting %1…").arg(spec_));
  if (!models_dir_.isEmpty()) {
    if (!worker_->start(spec_, models_dir_)) set_running(false);
    return;
  }
  backend_.call(
      this, [](AppCore& core) { return QString::fromStdString(core.models_dir().string()); },
      [this](const QString& dir) {
        models_dir_ = dir;
        if (!worker_->start(spec_, models_dir_)) set_running(false);
      },
      [this](const QString& m) {
        set_running(false);
        status_->setText(m);
      });
}

void HubView::set_running(bool running) {
  download_->setEnabled(!running);
  cancel_->setEnabled(running);
  spec_edit_->setEnabled(!running);
  quant_->setEnabled(!running && quant_->count() > 1);
}

}  // namespace rmm::desktop
