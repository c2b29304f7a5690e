#include "tray_icon.hpp"

#include <QAction>
#include <QEvent>
#include <QLinearGradient>
#include <QMenu>
#include <QPainter>
#include <QPixmap>
#include <QSettings>
#include <QSystemTrayIcon>
#include <QWidget>

namespace rmm::desktop {

QIcon app_icon() {
  QIcon icon;
  for (int size : {16, 24, 32, 48, 64, 128, 256}) {
    QPixmap pm(size, size);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.scale(size / 256.0, size / 256.0);  // the SVG's 256 × 256 view box
    QLinearGradient bg(16, 16, 240, 240);
    bg.setColorAt(0, QColor(0x3b, 0x7d, 0xea));
    bg.setColorAt(1, QColor(0x5a, 0x3f, 0xd6));
    p.setPen(Qt::NoPen);
    p.setBrush(bg);
    p.drawRoundedRect(QRectF(16, 16, 224, 224), 48, 48);
    p.setBrush(Qt::white);
    const QPointF play[] = {{64, 76}, {64, 180}, {150, 128}};
    p.drawPolygon(play, 3);
    // Three lines of an answer being written.
    QColor line(255, 255, 255, 230);
    p.setBrush(line);
    p.drawRoundedRect(QRectF(164, 92, 48, 16), 8, 8);
    p.drawRoundedRect(QRectF(164, 120, 60, 16), 8, 8);
    p.drawRoundedRect(QRectF(164, 148, 34, 16), 8, 8);
    p.end();
    icon.addPixmap(pm);
  }
  return icon;
}

TrayIcon* TrayIcon::create(QWidget& window) {
  if (!QSystemTrayIcon::isSystemTrayAvailable()) return nullptr;
  return new TrayIcon(window);
}

TrayIcon::TrayIcon(QWidget& window)
    : QObject(&window), window_(window), icon_(new QSystemTrayIcon(window.windowIcon(), this)) {
  auto* menu = new QMenu(&window);
  show_hide_ = menu->addAction(tr("Hide"));
  close_to_tray_ = menu->addAction(tr("Close to tray"));
  close_to_tray_->setCheckable(true);
  close_to_tray_->setChecked(QSettings().value(QLatin1String(kCloseToTrayKey), true).toBool());
  close_to_tray_->setToolTip(tr("Closing the window keeps RunMyModel running in the tray"));
  menu->addSeparator();
  QAction* quit = menu->addAction(tr("Quit"));
  connect(show_hide_, &QAction::triggered, this, &TrayIcon::toggleRequested);
  connect(quit, &QAction::triggered, this, &TrayIcon::quitRequested);
  connect(close_to_tray_, &QAction::toggled, this,
          [](bool on) { QSettings().setValue(QLatin1String(kCloseToTrayKey), on); });
  // The menu says what a click would do now.
  connect(menu, &QMenu::aboutToShow, this,
          [this] { show_hide_->setText(window_.isVisible() ? tr("Hide") : tr("Show")); });
  connect(icon_, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason r) {
    if (r == QSystemTrayIcon::Trigger) emit toggleRequested();
  });
  icon_->setContextMenu(menu);
  icon_->setToolTip(QStringLiteral("RunMyModel"));
  icon_->show();
}

bool TrayIcon::closeToTray() const { return close_to_tray_->isChecked(); }

}  // namespace rmm::desktop
