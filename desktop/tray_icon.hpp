#pragma once
// The system tray icon (only where the platform has a tray): a click shows or
// hides the window; its menu has Show/Hide, "Close to tray" (whether closing
// the window only hides it, a setting kept in QSettings) and Quit.
#include <QIcon>
#include <QObject>

class QAction;
class QSystemTrayIcon;
class QWidget;

namespace rmm::desktop {

class TrayIcon : public QObject {
  Q_OBJECT

 public:
  // nullptr when the platform has no system tray.
  static TrayIcon* create(QWidget& window);

  bool closeToTray() const;
  QSystemTrayIcon& icon() { return *icon_; }

 signals:
  void toggleRequested();  // Show/Hide, or a click on the icon
  void quitRequested();

 private:
  explicit TrayIcon(QWidget& window);

  QWidget& window_;
  QSystemTrayIcon* icon_;
  QAction* show_hide_;
  QAction* close_to_tray_;
};

// The app's icon (desktop/packaging/rmm-desktop.svg, drawn here with QPainter
// at the usual sizes: Qt 6.4's base has no SVG renderer).
QIcon app_icon();

// The QSettings key of "Close to tray" (default on).
inline constexpr const char* kCloseToTrayKey = "window/closeToTray";

}  // namespace rmm::desktop
