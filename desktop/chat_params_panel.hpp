#pragma once
// The Chat screen's Parameters: a system prompt and the sampling settings
// (temperature, top p, max tokens, seed) for the next answers, remembered
// across starts (QSettings under XDG_CONFIG_HOME).
#include <QFrame>

#include "chat_types.hpp"

class QDoubleSpinBox;
class QPlainTextEdit;
class QSpinBox;

namespace rmm::desktop {

class ChatParamsPanel : public QFrame {
  Q_OBJECT

 public:
  explicit ChatParamsPanel(QWidget* parent = nullptr);
  ChatParams params() const;
  void setMaxTokens(int n);

 private:
  QPlainTextEdit* system_;
  QDoubleSpinBox* temperature_;
  QDoubleSpinBox* top_p_;
  QSpinBox* max_tokens_;
  QSpinBox* seed_;
};

}  // namespace rmm::desktop
