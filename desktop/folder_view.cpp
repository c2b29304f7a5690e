#include "folder_view.hpp"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>

#include "backend.hpp"
#include "models/model_files.hpp"
#include "padded_cell_delegate.hpp"
#include "plain_label.hpp"

namespace rmm::desktop {

namespace {

enum FolderColumn { Path, Source, Models, FolderColumns };

}  // namespace

FolderView::FolderView(Backend& backend, QWidget* parent)
    : QWidget(parent),
      backend_(backend),
      table_(new QTableWidget(0, FolderColumns)),
      path_(new QLineEdit),
      browse_(new QPushButton(tr("Browse…"))),
      add_(new QPushButton(tr("Add folder"))),
      remove_(new QPushButton(tr("Remove"))),
      message_(plain_label()) {
  table_->setObjectName(QStringLiteral("modelFolders"));
  table_->setHorizontalHeaderLabels({tr("Folder"), tr("Source"), tr("Models")});
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setAlternatingRowColors(true);
  table_->setShowGrid(false);
  table_->setWordWrap(false);
  table_->verticalHeader()->hide();
  table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 14);
  const int em = table_->fontMetrics().horizontalAdvance(QLatin1Char('M'));
  table_->setItemDelegate(new PaddedCellDelegate(em / 2, table_));
  QHeaderView* header = table_->horizontalHeader();
  header->setHighlightSections(false);
  header->setMinimumHeight(table_->fontMetrics().height() + 12);
  header->setSectionResizeMode(Path, QHeaderView::Stretch);
  header->resizeSection(Source, 7 * em);
  header->resizeSection(Models, 6 * em);
  table_->horizontalHeaderItem(Path)->setTextAlignment(Qt::AlignVCenter | Qt::AlignLeft);
  table_->horizontalHeaderItem(Source)->setTextAlignment(Qt::AlignVCenter | Qt::AlignLeft);
  table_->horizontalHeaderItem(Models)->setTextAlignment(Qt::AlignVCenter | Qt::AlignRight);

  path_->setObjectName(QStringLiteral("folderPath"));
  path_->setPlaceholderText(tr("A folder of .gguf files (absolute path)"));
  browse_->setObjectName(QStringLiteral("folderBrowse"));
  add_->setObjectName(QStringLiteral("folderAdd"));
  remove_->setObjectName(QStringLiteral("folderRemove"));
  remove_->setEnabled(false);
  message_->setObjectName(QStringLiteral("folderMessage"));
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* row = new QHBoxLayout;
  row->addWidget(path_, 1);
  row->addWidget(browse_);
  row->addWidget(add_);
  row->addSpacing(12);
  row->addWidget(remove_);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 8, 0, 0);
  layout->setSpacing(10);
  layout->addWidget(table_, 1);
  layout->addLayout(row);
  layout->addWidget(message_);

  connect(browse_, &QPushButton::clicked, this, &FolderView::browse);
  connect(add_, &QPushButton::clicked, this, [this] { addFolder(path_->text()); });
  connect(path_, &QLineEdit::returnPressed, this, [this] { addFolder(path_->text()); });
  connect(remove_, &QPushButton::clicked, this, [this] {
    const auto rows = table_->selectionModel()->selectedRows();
    if (!rows.isEmpty()) removeFolder(table_->item(rows.first().row(), Path)->text());
  });
  connect(table_, &QTableWidget::itemSelectionChanged, this, [this] {
    const auto rows = table_->selectionModel()->selectedRows();
    // Only added folders can go here; the others are config.toml's.
    remove_->setEnabled(!rows.isEmpty() &&
                        table_->item(rows.first().row(), Source)->text() == QStringLiteral("added"));
  });
}

QString FolderView::message() const { return message_->text(); }

void FolderView::refresh() {
  backend_.call(
      this,
      [](AppCore& core) {
        auto& registry = core.registry();
        registry.scan();
        const auto all = registry.list();
        QVariantList out;
        for (const auto& f : registry.folders()) {
          const auto n = std::count_if(all.begin(), all.end(), [&](const store::ModelRecord& r) {
            return models::is_inside(r.path, f.path);
          });
          out << QVariant(QVariantList{QString::fromStdString(f.path.string()),
                                       QString::fromStdString(f.source), static_cast<int>(n)});
        }
        return out;
      },
      [this](const QVariantList& rows) { show_folders(rows); },
      [this](const QString& m) { message_->setText(m); });
}

void FolderView::show_folders(const QVariantList& rows) {
  table_->setRowCount(0);
  table_->setRowCount(static_cast<int>(rows.size()));
  for (int r = 0; r < rows.size(); ++r) {
    const auto f = rows[r].toList();
    auto* path = new QTableWidgetItem(f[0].toString());
    path->setToolTip(f[0].toString());
    table_->setItem(r, Path, path);
    table_->setItem(r, Source, new QTableWidgetItem(f[1].toString()));
    auto* n = new QTableWidgetItem(QString::number(f[2].toInt()));
    n->setTextAlignment(Qt::AlignVCenter | Qt::AlignRight);
    table_->setItem(r, Models, n);
  }
  remove_->setEnabled(false);
  emit listed(static_cast<int>(rows.size()));
}

void FolderView::browse() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Add a models folder"), path_->text());
  if (!dir.isEmpty()) path_->setText(dir);
}

void FolderView::addFolder(const QString& path) {
  if (path.trimmed().isEmpty()) {
    message_->setText(tr("Type or pick a folder first."));
    return;
  }
  add_->setEnabled(false);
  message_->setText(tr("Scanning %1…").arg(path));
  backend_.call(
      this,
      [p = path.trimmed().toStdString()](AppCore& core) {
        const auto [folder, found] = core.registry().add_folder(p);
        return QStringList{QString::fromStdString(folder.path.string()), QString::number(found.size())};
      },
      [this](const QStringList& r) {
        add_->setEnabled(true);
        path_->clear();
        const int n = r[1].toInt();
        message_->setText(n == 1 ? tr("Added %1: 1 model found.").arg(r[0])
                                 : tr("Added %1: %2 models found.").arg(r[0], QString::number(n)));
        refresh();
        emit changed();
      },
      [this](const QString& m) {
        add_->setEnabled(true);
        message_->setText(m);
      });
}

void FolderView::removeFolder(const QString& path) {
  backend_.call(
      this,
      [p = path.toStdString()](AppCore& core) {
        return static_cast<int>(core.registry().remove_folder(p).size());
      },
      [this, path](int forgotten) {
        message_->setText(
            tr("Removed %1 (%n model(s) no longer listed; the files stay).", nullptr, forgotten).arg(path));
        refresh();
        emit changed();
      },
      [this](const QString& m) { message_->setText(m); });
}

}  // namespace rmm::desktop
