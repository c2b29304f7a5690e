#include "models_view.hpp"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

#include "backend.hpp"
#include "model_table.hpp"

namespace rmm::desktop {

ModelsView::ModelsView(Backend& backend, QWidget* parent)
    : QWidget(parent), table_(new ModelTable(this)), view_(new QTableView), summary_(new QLabel) {
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
  QHeaderView* header = view_->horizontalHeader();
  header->setMinimumHeight(view_->fontMetrics().height() + 12);
  // The figures get room to breathe; the name takes the rest.
  const int em = view_->fontMetrics().horizontalAdvance(QLatin1Char('M'));
  const int widths[] = {0, 8 * em, 9 * em, 8 * em, 7 * em, 10 * em};
  for (int c = ModelTable::Size; c < ModelTable::ColumnCount; ++c) header->resizeSection(c, widths[c]);
  header->setSectionResizeMode(ModelTable::Name, QHeaderView::Stretch);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(20, 16, 20, 16);
  layout->setSpacing(12);
  layout->addLayout(top);
  layout->addWidget(view_, 1);

  connect(refresh, &QPushButton::clicked, &backend, &Backend::refreshModels);
  connect(&backend, &Backend::modelsListed, this, &ModelsView::show_models);
}

void ModelsView::show_models(const ModelList& models) {
  table_->setModels(models);
  qint64 bytes = 0;
  for (const auto& m : models) bytes += m.size;
  const QString count = models.size() == 1 ? tr("1 model") : tr("%1 models").arg(models.size());
  summary_->setText(count + QStringLiteral(", ") + format_bytes(bytes));
}

}  // namespace rmm::desktop
