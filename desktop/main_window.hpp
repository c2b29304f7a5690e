#pragma once
// The window: a sidebar to move between screens, the screen in view beside
// it (a QStackedWidget), a status bar. Its geometry, screen and state
// (maximized, full screen) are remembered (QSettings, under XDG_CONFIG_HOME).
// Shortcuts: Ctrl+1..4 the screens, Ctrl+N a new chat, F11 / Ctrl+Shift+F full
// screen, Ctrl+Q quit; Ctrl+Alt+R shows or hides it from anywhere (X11 only).
// With a system tray, closing it hides it there (the tray's "Close to tray").
#include <QMainWindow>

class QListWidget;
class QStackedWidget;

namespace rmm::desktop {

class Backend;
class ArchitectView;
class ChatView;
class ModelsView;
class MonitorView;
class TrayIcon;
class GlobalShortcut;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  enum Screen { Chat, Architect, Models, Monitor };

  explicit MainWindow(Backend& backend, QWidget* parent = nullptr);
  void showScreen(Screen s);
  ChatView& chat() { return *chat_; }
  ModelsView& models() { return *models_; }
  ArchitectView& architect() { return *architect_; }
  MonitorView& monitor() { return *monitor_; }
  Screen currentScreen() const;
  TrayIcon* tray() { return tray_; }  // nullptr without a system tray
  GlobalShortcut& globalShortcut() { return *global_; }

  void saveWindowState() const;  // geometry, screen, maximized / full screen
  void toggleVisible();          // the tray's and the global shortcut's Show/Hide
  void toggleFullScreen();
  void quit();  // really quits, tray or not

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void add_shortcuts();
  void restore_window_state();

  QListWidget* nav_;
  QStackedWidget* stack_;
  ChatView* chat_;
  ArchitectView* architect_;
  ModelsView* models_;
  MonitorView* monitor_;
  TrayIcon* tray_ = nullptr;
  GlobalShortcut* global_ = nullptr;
  bool quitting_ = false;
};

}  // namespace rmm::desktop
