#include "chart_line.hpp"

#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <cmath>

namespace rmm::desktop {

double nice_ceiling(double v) {
  if (!(v > 0.0)) return 1.0;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  // Steps that split into four round quarters (the grid's lines).
  for (double m : {1.0, 1.2, 1.6, 2.0, 2.4, 3.2, 4.0, 6.0, 8.0, 10.0})
    if (m * p >= v * (1.0 - 1e-9)) return m * p;
  return 10.0 * p;
}

LineChart::LineChart(const QString& title, QWidget* parent)
    : QWidget(parent),
      title_(title),
      empty_(tr("No data yet")),
      format_([](double v) { return QString::number(v, 'f', 0); }) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void LineChart::setSeries(QVector<Series> series) {
  series_ = std::move(series);
  update();
}

void LineChart::setFormatter(std::function<QString(double)> format) {
  format_ = std::move(format);
  update();
}

void LineChart::setCaption(const QString& text) {
  caption_ = text;
  update();
}

void LineChart::setEmptyText(const QString& text) {
  empty_ = text;
  update();
}

void LineChart::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QPalette& pal = palette();
  const QColor text = pal.color(QPalette::WindowText);
  QColor dim = text;
  dim.setAlphaF(0.6);
  QColor grid = text;
  grid.setAlphaF(0.12);

  // A card: the base colour on the window's, a thin border.
  const QRectF card = QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5);
  p.setPen(QPen(grid, 1));
  p.setBrush(pal.color(QPalette::Base));
  p.drawRoundedRect(card, 8, 8);

  const QFontMetrics fm(font());
  const int pad = 12;
  QFont bold = font();
  bold.setBold(true);
  p.setFont(bold);
  p.setPen(text);
  p.drawText(QRect(pad, pad, width() - 2 * pad, fm.height()), Qt::AlignLeft | Qt::AlignVCenter, title_);
  p.setFont(font());

  // Legend, right-aligned on the title's line.
  int x = width() - pad;
  for (auto it = series_.crbegin(); it != series_.crend(); ++it) {
    const int w = fm.horizontalAdvance(it->name);
    x -= w;
    p.setPen(dim);
    p.drawText(QRect(x, pad, w, fm.height()), Qt::AlignVCenter, it->name);
    x -= 14;
    p.fillRect(QRectF(x, pad + fm.height() / 2.0 - 1.5, 10, 3), it->color);
    x -= 12;
  }

  double top = 0.0;
  int steps = 0;
  for (const auto& s : series_) {
    steps = std::max(steps, static_cast<int>(s.values.size()));
    for (double v : s.values) top = std::max(top, v);
  }
  top = nice_ceiling(top * 1.04);  // a little room above the highest point

  const int label_w =
      std::max(fm.horizontalAdvance(format_(top)), fm.horizontalAdvance(format_(top / 2))) + 8;
  const int caption_h = caption_.isEmpty() ? 0 : fm.height() + 4;
  const QRectF plot(pad + label_w, pad + fm.height() + 10, width() - 2 * pad - label_w,
                    height() - (pad + fm.height() + 10) - pad - caption_h - fm.height() / 2.0);
  if (plot.width() < 20 || plot.height() < 20) return;

  // Grid and y labels: 0, 1/4, 1/2, 3/4 and the top.
  for (int i = 0; i <= 4; ++i) {
    const double y = plot.bottom() - plot.height() * i / 4.0;
    p.setPen(QPen(grid, 1));
    p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
    p.setPen(dim);
    p.drawText(QRectF(pad, y - fm.height() / 2.0, label_w - 6, fm.height()),
               Qt::AlignRight | Qt::AlignVCenter, format_(top * i / 4.0));
  }
  if (!caption_.isEmpty()) {
    p.setPen(dim);
    p.drawText(QRectF(plot.left(), height() - pad - fm.height(), plot.width(), fm.height()),
               Qt::AlignLeft | Qt::AlignVCenter, caption_);
  }
  if (steps == 0) {
    p.setPen(dim);
    p.drawText(plot, Qt::AlignCenter, empty_);
    return;
  }

  // Newest at the right edge; one point alone is drawn as a dot.
  const double dx = steps > 1 ? plot.width() / (steps - 1) : 0.0;
  for (const auto& s : series_) {
    if (s.values.isEmpty()) continue;
    const int offset = steps - static_cast<int>(s.values.size());
    QPainterPath path;
    for (int i = 0; i < s.values.size(); ++i) {
      const double px = steps > 1 ? plot.left() + dx * (offset + i) : plot.center().x();
      const double py = plot.bottom() - plot.height() * std::clamp(s.values[i] / top, 0.0, 1.0);
      if (i == 0)
        path.moveTo(px, py);
      else
        path.lineTo(px, py);
    }
    p.setPen(QPen(s.color, 2, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    p.setBrush(Qt::NoBrush);
    p.drawPath(path);
    const QPointF last = path.currentPosition();
    p.setBrush(s.color);
    p.drawEllipse(last, 3, 3);
  }
}

}  // namespace rmm::desktop
