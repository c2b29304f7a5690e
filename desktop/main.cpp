// rmm-desktop: the native front end over rmm's core (see README, "Desktop app").
#include <QApplication>
#include <QCommandLineParser>

#include "backend.hpp"
#include "core/log.hpp"
#include "main_window.hpp"
#include "theme.hpp"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("rmm-desktop"));
  QApplication::setOrganizationName(QStringLiteral("rmm"));
  QApplication::setApplicationVersion(QStringLiteral(RMM_VERSION));

  QCommandLineParser cli;
  cli.setApplicationDescription(QStringLiteral("RunMyModel desktop app"));
  cli.addHelpOption();
  cli.addVersionOption();
  QCommandLineOption theme_opt(QStringLiteral("theme"), QStringLiteral("system (default), light or dark"),
                               QStringLiteral("THEME"), QStringLiteral("system"));
  QCommandLineOption log_opt(QStringLiteral("log-level"),
                             QStringLiteral("error, warn (default), info, debug"), QStringLiteral("LEVEL"),
                             QStringLiteral("warn"));
  cli.addOption(theme_opt);
  cli.addOption(log_opt);
  cli.process(app);

  rmm::desktop::Theme theme;
  if (!rmm::desktop::parse_theme(cli.value(theme_opt), theme)) {
    qCritical("rmm-desktop: --theme must be system, light or dark");
    return 2;
  }
  try {
    rmm::log::set_level(rmm::log::parse_level(cli.value(log_opt).toStdString()));
  } catch (const std::exception& e) {
    qCritical("rmm-desktop: %s", e.what());
    return 2;
  }
  rmm::desktop::apply_theme(app, theme);

  rmm::desktop::Backend backend;
  rmm::desktop::MainWindow window(backend);
  window.show();
  return QApplication::exec();
}
