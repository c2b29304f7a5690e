#pragma once
// The Monitor screen: generation speed, time to first token, RAM and VRAM, the app's own share (issue 15).
#include <QWidget>

namespace rmm::desktop {

class Backend;

class MonitorView : public QWidget {
  Q_OBJECT

 public:
  explicit MonitorView(Backend& backend, QWidget* parent = nullptr);

 private:
  Backend& backend_;
};

}  // namespace rmm::desktop
