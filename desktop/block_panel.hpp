#pragma once
// The Architect's blocks: a list in message order (drag and drop or
// Alt+Up/Down reorders it), Add by type, Remove, and the editor of the block
// in view under it (text for system, context and user; user/assistant pairs
// for examples; temperature, max_tokens, top_p, seed and stop for
// parameters). Each list item keeps its block as the template JSON shape
// (Qt::UserRole), so a move carries the block with it.
#include <QWidget>
#include <nlohmann/json.hpp>

class QDoubleSpinBox;
class QLineEdit;
class QListWidget;
class QListWidgetItem;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QTableWidget;

namespace rmm::desktop {

class BlockPanel : public QWidget {
  Q_OBJECT

 public:
  explicit BlockPanel(QWidget* parent = nullptr);

  nlohmann::json blocks() const;  // [{type, ...}] in list order
  void setBlocks(const nlohmann::json& blocks);
  // Adds a block of `type` (system, context, user, examples, parameters) after the current one.
  void addBlock(const QString& type, const nlohmann::json& block = nullptr);
  void removeCurrent();
  // Moves the current block by `delta` rows (Alt+Up/Down).
  void moveCurrent(int delta);
  // Marks the block at `row` as the one a validation error is about (-1: none).
  void markError(int row);

  QListWidget* list() const { return list_; }
  QPlainTextEdit* textEdit() const { return text_; }
  QTableWidget* pairsTable() const { return pairs_; }

 signals:
  void changed();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void show_current();   // the current block into the editor
  void store_current();  // the editor into the current block
  void set_item(QListWidgetItem* item, const nlohmann::json& block);

  QListWidget* list_;
  QPushButton* remove_;
  QStackedWidget* editors_;
  QPlainTextEdit* text_;
  QTableWidget* pairs_;
  QDoubleSpinBox* temperature_;
  QSpinBox* max_tokens_;
  QDoubleSpinBox* top_p_;
  QSpinBox* seed_;
  QLineEdit* stop_;
  bool loading_ = false;  // set while the editor is filled from a block
};

}  // namespace rmm::desktop
