#include "main_window.hpp"

#include <QCloseEvent>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QVBoxLayout>

#include "architect_view.hpp"
#include "backend.hpp"
#include "chat_view.hpp"
#include "models_view.hpp"
#include "monitor_view.hpp"

namespace rmm::desktop {

namespace {

QWidget* make_sidebar(QListWidget* nav) {
  auto* side = new QFrame;
  side->setObjectName(QStringLiteral("sidebar"));
  side->setFixedWidth(200);
  side->setAutoFillBackground(true);
  side->setBackgroundRole(QPalette::AlternateBase);
  auto* brand = new QLabel(QStringLiteral("RunMyModel"));
  QFont f = brand->font();
  f.setPointSizeF(f.pointSizeF() * 1.3);
  f.setBold(true);
  brand->setFont(f);
  nav->setObjectName(QStringLiteral("navigation"));
  nav->setFrameShape(QFrame::NoFrame);
  nav->setSpacing(2);
  nav->setAutoFillBackground(false);
  nav->viewport()->setAutoFillBackground(false);
  nav->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  QFont nf = nav->font();
  nf.setPointSizeF(nf.pointSizeF() * 1.1);
  nav->setFont(nf);
  auto* layout = new QVBoxLayout(side);
  layout->setContentsMargins(12, 16, 12, 12);
  layout->setSpacing(14);
  layout->addWidget(brand);
  layout->addWidget(nav, 1);
  return side;
}

}  // namespace

MainWindow::MainWindow(Backend& backend, QWidget* parent)
    : QMainWindow(parent),
      nav_(new QListWidget),
      stack_(new QStackedWidget),
      chat_(new ChatView(backend)),
      architect_(new ArchitectView(backend)),
      models_(new ModelsView(backend)),
      monitor_(new MonitorView(backend)) {
  setWindowTitle(QStringLiteral("RunMyModel"));
  // In the order of MainWindow::Screen.
  nav_->addItem(tr("Chat"));
  nav_->addItem(tr("Prompt Architect"));
  nav_->addItem(tr("Models"));
  nav_->addItem(tr("Monitor"));
  for (int i = 0; i < nav_->count(); ++i) nav_->item(i)->setSizeHint(QSize(0, 34));
  stack_->addWidget(chat_);
  stack_->addWidget(architect_);
  stack_->addWidget(models_);
  stack_->addWidget(monitor_);

  auto* central = new QWidget;
  auto* layout = new QHBoxLayout(central);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addWidget(make_sidebar(nav_));
  layout->addWidget(stack_, 1);
  setCentralWidget(central);

  connect(nav_, &QListWidget::currentRowChanged, stack_, &QStackedWidget::setCurrentIndex);
  connect(&backend, &Backend::failed, this,
          [this](const QString& message) { statusBar()->showMessage(message, 10000); });
  nav_->setCurrentRow(Chat);

  QSettings settings;
  if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray())) resize(1100, 720);
  backend.refreshModels();
}

void MainWindow::showScreen(Screen s) { nav_->setCurrentRow(s); }

void MainWindow::closeEvent(QCloseEvent* event) {
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  event->accept();
}

}  // namespace rmm::desktop
