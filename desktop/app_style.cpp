#include "app_style.hpp"

#include <QPainter>
#include <QPainterPath>
#include <QStyleFactory>
#include <QStyleOption>

namespace rmm::desktop {

AppStyle::AppStyle() : QProxyStyle(QStyleFactory::create(QStringLiteral("Fusion"))) {}

void AppStyle::drawPrimitive(PrimitiveElement element, const QStyleOption* option, QPainter* painter,
                             const QWidget* widget) const {
  const QPalette& pal = option->palette;
  const bool enabled = option->state & State_Enabled;
  if (element == PE_IndicatorCheckBox) {
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    const QRectF box = QRectF(option->rect).adjusted(1.5, 1.5, -1.5, -1.5);
    const bool on = option->state & State_On;
    const QColor accent = pal.color(enabled ? QPalette::Active : QPalette::Disabled, QPalette::Highlight);
    // The outline in the placeholder text's colour: it contrasts with Base in both themes.
    painter->setPen(QPen(on ? accent : pal.color(QPalette::PlaceholderText), 1.0));
    painter->setBrush(on ? accent : pal.color(QPalette::Base));
    painter->drawRoundedRect(box, 2.5, 2.5);
    if (on || (option->state & State_NoChange)) {
      painter->setPen(
          QPen(pal.color(QPalette::HighlightedText), 1.8, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
      QPainterPath mark;
      if (on) {
        mark.moveTo(box.left() + box.width() * 0.22, box.top() + box.height() * 0.52);
        mark.lineTo(box.left() + box.width() * 0.42, box.top() + box.height() * 0.72);
        mark.lineTo(box.left() + box.width() * 0.78, box.top() + box.height() * 0.30);
      } else {
        mark.moveTo(box.left() + box.width() * 0.25, box.center().y());
        mark.lineTo(box.right() - box.width() * 0.25, box.center().y());
      }
      painter->setBrush(Qt::NoBrush);
      painter->drawPath(mark);
    }
    painter->restore();
    return;
  }
  QProxyStyle::drawPrimitive(element, option, painter, widget);
  if (element == PE_PanelButtonCommand && (option->state & State_On) && enabled) {
    // A checked toggle: tinted with the accent colour, and outlined in it.
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    QColor tint = pal.color(QPalette::Highlight);
    tint.setAlpha(60);
    painter->setBrush(tint);
    painter->setPen(QPen(pal.color(QPalette::Highlight), 1.0));
    painter->drawRoundedRect(QRectF(option->rect).adjusted(0.5, 0.5, -0.5, -0.5), 2.0, 2.0);
    painter->restore();
  }
}

}  // namespace rmm::desktop
