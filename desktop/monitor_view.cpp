#include "monitor_view.hpp"

#include <QLabel>
#include <QVBoxLayout>

#include "backend.hpp"

namespace rmm::desktop {

MonitorView::MonitorView(Backend& backend, QWidget* parent) : QWidget(parent), backend_(backend) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(20, 16, 20, 16);
  layout->addWidget(new QLabel(tr("Monitor")));
  layout->addStretch(1);
}

}  // namespace rmm::desktop
