#pragma once
// Draws the Models table's cells with room on both sides of the text, so
// that a right-aligned figure does not touch the next column's text. (A
// style sheet padding the cells broke the header and the dark theme.)
#include <QStyledItemDelegate>

namespace rmm::desktop {

class ModelCellDelegate : public QStyledItemDelegate {
  Q_OBJECT

 public:
  explicit ModelCellDelegate(int padding, QObject* parent = nullptr);
  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

 private:
  int padding_;
};

}  // namespace rmm::desktop
