#include "main_window.hpp"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QScreen>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QVBoxLayout>
#include <QWindow>

#include "architect_view.hpp"
#include "backend.hpp"
#include "chat_view.hpp"
#include "models_view.hpp"
#include "monitor_view.hpp"
#include "shortcut_global.hpp"
#include "tray_icon.hpp"

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
  setWindowIcon(app_icon());
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

  add_shortcuts();
  tray_ = TrayIcon::create(*this);
  global_ = new GlobalShortcut('r', this);
  connect(global_, &GlobalShortcut::activated, this, &MainWindow::toggleVisible);
  if (tray_) {
    connect(tray_, &TrayIcon::toggleRequested, this, &MainWindow::toggleVisible);
    connect(tray_, &TrayIcon::quitRequested, this, &MainWindow::quit);
    if (global_->active())
      tray_->icon().setToolTip(tr("RunMyModel (%1 shows or hides it)").arg(global_->description()));
  }
  restore_window_state();
  backend.refreshModels();
}

void MainWindow::add_shortcuts() {
  for (int i = Chat; i <= Monitor; ++i) {
    auto* a = new QAction(nav_->item(i)->text(), this);
    a->setObjectName(QStringLiteral("screenAction%1").arg(i + 1));
    a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    connect(a, &QAction::triggered, this, [this, i] { showScreen(static_cast<Screen>(i)); });
    addAction(a);
    nav_->item(i)->setToolTip(a->shortcut().toString(QKeySequence::NativeText));
  }
  auto* new_chat = new QAction(tr("New chat"), this);
  new_chat->setObjectName(QStringLiteral("newChatAction"));
  new_chat->setShortcut(QKeySequence::New);
  connect(new_chat, &QAction::triggered, this, [this] {
    showScreen(Chat);
    chat_->newChat();
  });
  addAction(new_chat);
  auto* full = new QAction(tr("Full screen"), this);
  full->setObjectName(QStringLiteral("fullScreenAction"));
  full->setShortcuts({QKeySequence(Qt::Key_F11), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F)});
  connect(full, &QAction::triggered, this, &MainWindow::toggleFullScreen);
  addAction(full);
  auto* quit = new QAction(tr("Quit"), this);
  quit->setObjectName(QStringLiteral("quitAction"));
  quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
  connect(quit, &QAction::triggered, this, &MainWindow::quit);
  addAction(quit);
}

void MainWindow::showScreen(Screen s) { nav_->setCurrentRow(s); }

MainWindow::Screen MainWindow::currentScreen() const { return static_cast<Screen>(stack_->currentIndex()); }

void MainWindow::toggleVisible() {
  if (isVisible() && !isMinimized() && isActiveWindow()) {
    saveWindowState();
    hide();
    return;
  }
  show();
  if (isMinimized()) setWindowState(windowState() & ~Qt::WindowMinimized);
  raise();
  activateWindow();
}

void MainWindow::toggleFullScreen() { setWindowState(windowState() ^ Qt::WindowFullScreen); }

void MainWindow::quit() {
  quitting_ = true;
  close();
  QApplication::quit();
}

void MainWindow::saveWindowState() const {
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  if (const QScreen* s = screen()) settings.setValue(QStringLiteral("window/screen"), s->name());
  settings.setValue(QStringLiteral("window/maximized"), isMaximized());
  settings.setValue(QStringLiteral("window/fullScreen"), isFullScreen());
}

void MainWindow::restore_window_state() {
  QSettings settings;
  // The screen it was on, when that screen is still there (restoreGeometry
  // alone falls back to the primary one when screens were renumbered).
  const QString name = settings.value(QStringLiteral("window/screen")).toString();
  for (QScreen* s : QGuiApplication::screens())
    if (!name.isEmpty() && s->name() == name) setScreen(s);
  if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray())) resize(1100, 720);
  Qt::WindowStates state = windowState();
  if (settings.value(QStringLiteral("window/maximized")).toBool()) state |= Qt::WindowMaximized;
  if (settings.value(QStringLiteral("window/fullScreen")).toBool()) state |= Qt::WindowFullScreen;
  setWindowState(state);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  saveWindowState();
  if (tray_ && tray_->closeToTray() && !quitting_) {
    // Still running: the tray's icon brings it back.
    hide();
    event->ignore();
    return;
  }
  event->accept();
}

}  // namespace rmm::desktop
