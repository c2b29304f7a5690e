#include "models_view.hpp"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>
#include <algorithm>

#include "backend.hpp"
#include "folder_view.hpp"
#include "hub_view.hpp"
#include "model_details_panel.hpp"
#include "model_table.hpp"
#include "padded_cell_delegate.hpp"
#include "plain_label.hpp"

namespace rmm::desktop {

ModelsView::ModelsView(Backend& backend, QWidget* parent)
    : QWidget(parent),
      backend_(backend),
      table_(new ModelTable(this)),
      view_(new QTableView),
      summary_(plain_label()),
      tabs_(new QTabWidget),
      details_(new ModelDetailsPanel(backend)),
      hub_(new HubView(backend)),
      folders_(new FolderView(backend)) {
  qRegisterMetaType<ModelDetails>();
  qRegisterMetaType<LoadPlan>();
  auto* title = new QLabel(tr("Models"));
  title->setObjectName(QStringLiteral("screenTitle"));
  QFont f = title->font();
  f.setPointSizeF(f.pointSizeF() * 1.4);
  f.setBold(true);
  title->setFont(f);
  auto* refresh = new QPushButton(tr("Refresh"));
  refresh->setObjectName(QStringLiteral("refreshModels"));
  summary_->setObjectName(QStringLiteral("modelsSummary"));
  summary_->setForegroundRole(QPalette::PlaceholderText);

  auto* top = new QHBoxLayout;
  top->addWidget(title);
  top->addSpacing(12);
  top->addWidget(summary_);
  top->addStretch(1);
  top->addWidget(refresh);

  view_->setObjectName(QStringLiteral("modelsTable"));
  view_->setModel(table_);
  view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  view_->setSelectionMode(QAbstractItemView::SingleSelection);
  view_->setAlternatingRowColors(true);
  view_->setShowGrid(false);
  view_->setWordWrap(false);
  view_->verticalHeader()->hide();
  view_->horizontalHeader()->setHighlightSections(false);
  view_->verticalHeader()->setDefaultSectionSize(view_->fontMetrics().height() + 14);
  const int em = view_->fontMetrics().horizontalAdvance(QLatin1Char('M'));
  // Room on both sides of each cell's text: right-aligned figures stay off the next column.
  view_->setItemDelegate(new PaddedCellDelegate(em / 2, view_));
  QHeaderView* header = view_->horizontalHeader();
  header->setMinimumHeight(view_->fontMetrics().height() + 12);
  // The figures get room to breathe (never less than their header needs); the name takes the rest.
  const int widths[] = {0, 7 * em, 6 * em, 6 * em, 6 * em, 7 * em, 6 * em};
  for (int c = ModelTable::Size; c < ModelTable::ColumnCount; ++c) {
    const QString text = table_->headerData(c, Qt::Horizontal).toString();
    header->resizeSection(c,
                          std::max(widths[c], header->fontMetrics().horizontalAdvance(text) + em + em / 2));
  }
  header->setSectionResizeMode(ModelTable::Name, QHeaderView::Stretch);
  view_->setMinimumWidth(34 * em);

  auto* library = new QSplitter(Qt::Horizontal);
  library->setObjectName(QStringLiteral("librarySplitter"));
  library->setChildrenCollapsible(false);
  library->addWidget(view_);
  library->addWidget(details_);
  details_->setMinimumWidth(33 * em);
  details_->setMaximumWidth(40 * em);
  library->setStretchFactor(0, 1);
  library->setStretchFactor(1, 0);  // the details keep their width, the table takes what is left
  auto* library_page = new QWidget;
  auto* library_layout = new QVBoxLayout(library_page);
  library_layout->setContentsMargins(0, 8, 0, 0);
  library_layout->addWidget(library);

  tabs_->setObjectName(QStringLiteral("modelsTabs"));
  tabs_->setDocumentMode(true);
  // In the order of ModelsView::Tab.
  tabs_->addTab(library_page, tr("Library"));
  tabs_->addTab(hub_, tr("Hugging Face"));
  tabs_->addTab(folders_, tr("Folders"));

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(20, 16, 20, 16);
  layout->setSpacing(12);
  layout->addLayout(top);
  layout->addWidget(tabs_, 1);

  connect(refresh, &QPushButton::clicked, this, [this] {
    backend_.refreshModels();
    folders_->refresh();
  });
  connect(&backend, &Backend::modelsListed, this, &ModelsView::show_models);
  connect(view_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &ModelsView::selection_changed);
  connect(details_, &ModelDetailsPanel::loadedChanged, table_, &ModelTable::setLoaded);
  connect(details_, &ModelDetailsPanel::loadingChanged, table_, &ModelTable::setLoading);
  // The chat loads models too.
  connect(&backend, &Backend::answerStarted, this, &ModelsView::refresh_loaded);
  connect(hub_, &HubView::downloaded, &backend, &Backend::refreshModels);
  connect(folders_, &FolderView::changed, &backend, &Backend::refreshModels);
  connect(tabs_, &QTabWidget::currentChanged, this, [this](int tab) {
    if (tab == Folders) folders_->refresh();
  });
}

void ModelsView::showTab(Tab tab) { tabs_->setCurrentIndex(tab); }

bool ModelsView::selectModel(const QString& name) {
  const int row = table_->rowOf(name);
  if (row < 0) return false;
  view_->selectRow(row);
  return true;
}

void ModelsView::show_models(const ModelList& models) {
  const QString keep = selected_;
  table_->setModels(models);
  qint64 bytes = 0;
  for (const auto& m : models) bytes += m.size;
  const QString count = models.size() == 1 ? tr("1 model") : tr("%1 models").arg(models.size());
  summary_->setText(count + QStringLiteral(", ") + format_bytes(bytes));
  if (!keep.isEmpty() && !selectModel(keep)) details_->showModel(QString());
  refresh_loaded();
}

void ModelsView::refresh_loaded() {
  backend_.call(
      this, [](AppCore& core) { return loaded_models(core); },
      [this](const QStringList& names) { table_->setLoaded(names); });
}

void ModelsView::selection_changed() {
  const auto rows = view_->selectionModel()->selectedRows();
  const int row = rows.isEmpty() ? -1 : rows.first().row();
  const QString name = row >= 0 ? table_->models()[row].name : QString();
  if (name == selected_ && !name.isEmpty()) return;
  selected_ = name;
  details_->showModel(row >= 0 ? table_->models()[row].path : QString());
}

}  // namespace rmm::desktop
