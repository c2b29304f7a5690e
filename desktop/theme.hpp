#pragma once
// Light and dark: "system" keeps the platform's palette (and so follows the
// desktop's dark mode where the platform theme reports it); "light" and
// "dark" set Fusion with a palette of their own (screenshots, tests, and
// platforms that report no preference).
#include <QString>

class QApplication;

namespace rmm::desktop {

enum class Theme { System, Light, Dark };

// "system", "light" or "dark"; nullopt-like: false when `name` is none of them.
bool parse_theme(const QString& name, Theme& out);
void apply_theme(QApplication& app, Theme theme);

}  // namespace rmm::desktop
