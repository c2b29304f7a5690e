#pragma once
// The window: a sidebar to move between screens, the screen in view beside
// it (a QStackedWidget), a status bar. Its size and place are remembered
// (QSettings, under XDG_CONFIG_HOME).
#include <QMainWindow>

class QListWidget;
class QStackedWidget;

namespace rmm::desktop {

class Backend;
class ChatView;
class ModelsView;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  enum Screen { Chat, Models };

  explicit MainWindow(Backend& backend, QWidget* parent = nullptr);
  void showScreen(Screen s);
  ChatView& chat() { return *chat_; }
  ModelsView& models() { return *models_; }

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  QListWidget* nav_;
  QStackedWidget* stack_;
  ChatView* chat_;
  ModelsView* models_;
};

}  // namespace rmm::desktop
