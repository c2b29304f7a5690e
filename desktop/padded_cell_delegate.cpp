#include "padded_cell_delegate.hpp"

#include <QApplication>
#include <QPainter>

namespace rmm::desktop {

PaddedCellDelegate::PaddedCellDelegate(int padding, QObject* parent)
    : QStyledItemDelegate(parent), padding_(padding) {}

void PaddedCellDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                               const QModelIndex& index) const {
  QStyleOptionViewItem opt = option;
  initStyleOption(&opt, index);
  const QWidget* widget = opt.widget;
  QStyle* style = widget ? widget->style() : QApplication::style();
  // The background, selection and focus over the whole cell; the text inset.
  const QString text = opt.text;
  opt.text.clear();
  style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);
  const QRect inner = opt.rect.adjusted(padding_, 0, -padding_, 0);
  const QString shown = opt.fontMetrics.elidedText(text, opt.textElideMode, inner.width());
  const bool selected = opt.state & QStyle::State_Selected;
  const QPalette::ColorGroup group = !(opt.state & QStyle::State_Enabled) ? QPalette::Disabled
                                     : (opt.state & QStyle::State_Active) ? QPalette::Active
                                                                          : QPalette::Inactive;
  painter->save();
  painter->setFont(opt.font);
  painter->setPen(opt.palette.color(group, selected ? QPalette::HighlightedText : QPalette::Text));
  painter->drawText(inner, static_cast<int>(opt.displayAlignment), shown);
  painter->restore();
}

QSize PaddedCellDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const {
  QSize s = QStyledItemDelegate::sizeHint(option, index);
  s.rwidth() += 2 * padding_;
  return s;
}

}  // namespace rmm::desktop
