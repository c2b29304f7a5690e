#pragma once
// The window: a sidebar to move between screens, the screen in view beside
// it (a QStackedWidget), a status bar. Its size and place are remembered
// (QSettings, under XDG_CONFIG_HOME).
#include <QMainWindow>

class QListWidget;
class QStackedWidget;

namespace rmm::desktop {

class Backend;
class ArchitectView;
class ChatView;
class ModelsView;
class MonitorView;

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

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  QListWidget* nav_;
  QStackedWidget* stack_;
  ChatView* chat_;
  ArchitectView* architect_;
  ModelsView* models_;
  MonitorView* monitor_;
};

}  // namespace rmm::desktop
