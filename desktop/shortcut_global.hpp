#pragma once
// A shortcut that works while another application has the focus (show or
// hide the window). Only X11 lets an application grab a key for the whole
// desktop: there it is an xcb key grab on the root window. Wayland has no
// such thing for applications (a compositor's own settings can bind a key to
// `rmm-desktop`), and offscreen has no keyboard: there it is absent.
#include <QAbstractNativeEventFilter>
#include <QObject>
#include <QString>

namespace rmm::desktop {

class GlobalShortcut : public QObject, public QAbstractNativeEventFilter {
  Q_OBJECT

 public:
  // Grabs Ctrl+Alt+`key` (a Latin letter) where the platform allows it.
  explicit GlobalShortcut(char key = 'r', QObject* parent = nullptr);
  ~GlobalShortcut() override;

  bool active() const { return keycode_ != 0; }
  // What it is ("Ctrl+Alt+R"), or why it is absent.
  const QString& description() const { return description_; }

  bool nativeEventFilter(const QByteArray& type, void* message, qintptr* result) override;

 signals:
  void activated();

 private:
  void grab(char key);

  unsigned keycode_ = 0;  // 0: no grab
  unsigned root_ = 0;
  void* connection_ = nullptr;  // xcb_connection_t*
  QString description_;
};

}  // namespace rmm::desktop
