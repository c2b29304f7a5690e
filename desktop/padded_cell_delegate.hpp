#pragma once
// Draws table cells (models, Hub results, folders, generations) with room on
// both sides of the text, so that a right-aligned figure does not touch the
// next column's text. (A style sheet padding the cells broke the header and
// the dark theme.)
#include <QStyledItemDelegate>

namespace rmm::desktop {

class PaddedCellDelegate : public QStyledItemDelegate {
  Q_OBJECT

 public:
  explicit PaddedCellDelegate(int padding, QObject* parent = nullptr);
  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

 private:
  int padding_;
};

}  // namespace rmm::desktop
