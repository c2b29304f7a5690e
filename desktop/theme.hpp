#pragma once
// Light and dark, both Fusion with a palette of their own. "light" and "dark"
// force one; "system" (the default) picks the one that matches the platform's
// palette (its window colour's lightness: Qt 6.4 has no colour scheme API) at
// start and again whenever the platform's theme or palette changes.
#include <QObject>
#include <QString>

class QApplication;

namespace rmm::desktop {

enum class Theme { System, Light, Dark };

// "system", "light" or "dark"; nullopt-like: false when `name` is none of them.
bool parse_theme(const QString& name, Theme& out);
// Sets the palette of `theme`; System resolves to Light or Dark (returned).
Theme apply_theme(QApplication& app, Theme theme);
// Whether the platform's own palette is dark (read under any palette of ours).
bool platform_prefers_dark(QApplication& app);
// Whether `palette`'s window colour is dark.
bool is_dark(const QPalette& palette);

// With --theme system: re-applies the matching palette when the desktop's
// theme changes (QEvent::ThemeChange, ApplicationPaletteChange from the platform).
class ThemeFollower : public QObject {
  Q_OBJECT

 public:
  explicit ThemeFollower(QApplication& app);
  Theme current() const { return current_; }

 signals:
  void changed(rmm::desktop::Theme theme);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void follow();

  QApplication& app_;
  Theme current_;
  bool pending_ = false;   // one re-check for the burst of events a change sends
  bool applying_ = false;  // our own setPalette sends events too
};

}  // namespace rmm::desktop
