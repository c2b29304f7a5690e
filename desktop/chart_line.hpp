#pragma once
// A small line chart drawn with QPainter (Qt Charts is GPLv3-only; we do not
// use it): a title, a few series over the same x steps, a y axis from 0 to a
// rounded maximum with its labels, a legend. Colours come from the palette
// (text, grid, background) and from each series (lines), so it follows the theme.
#include <QColor>
#include <QString>
#include <QVector>
#include <QWidget>
#include <functional>

namespace rmm::desktop {

class LineChart : public QWidget {
  Q_OBJECT

 public:
  struct Series {
    QString name;
    QColor color;
    QVector<double> values;  // oldest first; every series shares the x steps, the newest at the right
  };

  explicit LineChart(const QString& title, QWidget* parent = nullptr);

  void setSeries(QVector<Series> series);
  // How a y value is written on the axis (default: the number, no decimals).
  void setFormatter(std::function<QString(double)> format);
  void setCaption(const QString& text);  // under the plot: what the x axis covers
  void setEmptyText(const QString& text);
  const QVector<Series>& series() const { return series_; }

  QSize sizeHint() const override { return {420, 200}; }
  QSize minimumSizeHint() const override { return {240, 150}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QString title_;
  QString caption_;
  QString empty_;
  QVector<Series> series_;
  std::function<QString(double)> format_;
};

// The axis maximum: the smallest of 1, 1.2, 1.6, 2, 2.4, 3.2, 4, 6 or 8 × 10^k at or
// above `v`, whose quarters are round too (1 for nothing).
double nice_ceiling(double v);

}  // namespace rmm::desktop
