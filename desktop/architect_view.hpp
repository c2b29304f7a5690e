#pragma once
// The Prompt Architect screen: templates built from blocks and variables, previewed and generated (issue 15).
#include <QWidget>

namespace rmm::desktop {

class Backend;

class ArchitectView : public QWidget {
  Q_OBJECT

 public:
  explicit ArchitectView(Backend& backend, QWidget* parent = nullptr);

 private:
  Backend& backend_;
};

}  // namespace rmm::desktop
