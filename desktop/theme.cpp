#include "theme.hpp"

#include <QApplication>
#include <QPalette>
#include <QStyle>
#include <QStyleFactory>
#include <QTimer>
#include <memory>

#include "app_style.hpp"

namespace rmm::desktop {

bool parse_theme(const QString& name, Theme& out) {
  if (name == QLatin1String("system"))
    out = Theme::System;
  else if (name == QLatin1String("light"))
    out = Theme::Light;
  else if (name == QLatin1String("dark"))
    out = Theme::Dark;
  else
    return false;
  return true;
}

namespace {

QPalette dark_palette() {
  QPalette p;
  const QColor window(0x20, 0x22, 0x27), base(0x17, 0x18, 0x1c), alt(0x2a, 0x2d, 0x33);
  const QColor text(0xe6, 0xe8, 0xeb), dim(0x8c, 0x92, 0x9b), accent(0x2f, 0x6f, 0xe0);
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::WindowText, text);
  p.setColor(QPalette::Base, base);
  p.setColor(QPalette::AlternateBase, alt);
  p.setColor(QPalette::ToolTipBase, alt);
  p.setColor(QPalette::ToolTipText, text);
  p.setColor(QPalette::Text, text);
  p.setColor(QPalette::PlaceholderText, dim);
  p.setColor(QPalette::Button, alt);
  p.setColor(QPalette::ButtonText, text);
  p.setColor(QPalette::BrightText, Qt::white);
  p.setColor(QPalette::Highlight, accent);
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Link, QColor(0x7a, 0xaa, 0xff));
  p.setColor(QPalette::Light, alt.lighter(130));
  p.setColor(QPalette::Midlight, alt.lighter(115));
  p.setColor(QPalette::Mid, alt.darker(120));
  p.setColor(QPalette::Dark, base.darker(130));
  p.setColor(QPalette::Shadow, Qt::black);
  for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
    p.setColor(QPalette::Disabled, role, dim.darker(130));
  p.setColor(QPalette::Disabled, QPalette::Button, window);
  return p;
}

QPalette light_palette() {
  QPalette p = std::unique_ptr<QStyle>(QStyleFactory::create(QStringLiteral("Fusion")))->standardPalette();
  p.setColor(QPalette::AlternateBase, QColor(0xf0, 0xf1, 0xf4));
  p.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xe0));
  p.setColor(QPalette::Link, QColor(0x1f, 0x5f, 0xd0));
  p.setColor(QPalette::PlaceholderText, QColor(0x6b, 0x71, 0x7a));
  return p;
}

}  // namespace

bool is_dark(const QPalette& palette) { return palette.color(QPalette::Window).lightness() < 128; }

bool platform_prefers_dark(QApplication& app) {
  // A palette that sets no role resolves to the platform's entirely (a
  // default-constructed one would be a copy of ours, which setPalette ignores).
  QPalette none(Qt::black);
  none.setResolveMask(0);
  const QPalette ours = QApplication::palette();
  app.setPalette(none);
  const bool dark = is_dark(QApplication::palette());
  app.setPalette(ours);
  return dark;
}

Theme apply_theme(QApplication& app, Theme theme) {
  if (theme == Theme::System) theme = platform_prefers_dark(app) ? Theme::Dark : Theme::Light;
  if (!dynamic_cast<AppStyle*>(QApplication::style())) QApplication::setStyle(new AppStyle);
  app.setPalette(theme == Theme::Dark ? dark_palette() : light_palette());
  return theme;
}

ThemeFollower::ThemeFollower(QApplication& app) : QObject(&app), app_(app) {
  applying_ = true;
  current_ = apply_theme(app_, Theme::System);
  applying_ = false;
  app_.installEventFilter(this);
}

bool ThemeFollower::eventFilter(QObject* watched, QEvent* event) {
  const auto type = event->type();
  if (!applying_ && !pending_ && (type == QEvent::ThemeChange || type == QEvent::ApplicationPaletteChange)) {
    pending_ = true;
    QTimer::singleShot(0, this, &ThemeFollower::follow);
  }
  return QObject::eventFilter(watched, event);
}

void ThemeFollower::follow() {
  applying_ = true;
  const bool dark = platform_prefers_dark(app_);
  const Theme want = dark ? Theme::Dark : Theme::Light;
  if (want != current_) {
    current_ = apply_theme(app_, want);
    emit changed(current_);
  }
  // The events our own palette changes posted are handled before this turn ends.
  QTimer::singleShot(0, this, [this] {
    applying_ = false;
    pending_ = false;
  });
}

}  // namespace rmm::desktop
