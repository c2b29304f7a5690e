#include "architect_view.hpp"

#include <QLabel>
#include <QVBoxLayout>

#include "backend.hpp"

namespace rmm::desktop {

ArchitectView::ArchitectView(Backend& backend, QWidget* parent) : QWidget(parent), backend_(backend) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(20, 16, 20, 16);
  layout->addWidget(new QLabel(tr("Architect")));
  layout->addStretch(1);
}

}  // namespace rmm::desktop
