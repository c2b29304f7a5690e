// rmm-desktop: the native front end over rmm's core (see README, "Desktop app").
#include <time.h>
#include <unistd.h>

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFile>
#include <QScreen>
#include <QTimer>
#include <QWindow>
#include <cstdio>

#include "backend.hpp"
#include "core/log.hpp"
#include "main_window.hpp"
#include "theme.hpp"
#include "tray_icon.hpp"

namespace {

// Milliseconds since the kernel started this process (/proc/self/stat's
// starttime, in clock ticks since boot, against CLOCK_BOOTTIME): what the
// dynamic loader and static initialisers took is counted too.
double ms_since_process_start() {
  QFile f(QStringLiteral("/proc/self/stat"));
  if (!f.open(QIODevice::ReadOnly)) return -1;
  const QByteArray stat = f.readAll();
  const auto fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');  // field 3 onwards
  if (fields.size() < 20) return -1;
  const double start_s = fields[19].toDouble() / static_cast<double>(sysconf(_SC_CLK_TCK));
  timespec now{};
  clock_gettime(CLOCK_BOOTTIME, &now);
  return (static_cast<double>(now.tv_sec) + now.tv_nsec / 1e9 - start_s) * 1000.0;
}

long rss_kib() {
  QFile f(QStringLiteral("/proc/self/status"));
  if (!f.open(QIODevice::ReadOnly)) return -1;
  for (const QByteArray& line : f.readAll().split('\n'))
    if (line.startsWith("VmRSS:")) return line.mid(6).trimmed().split(' ').value(0).toLong();
  return -1;
}

// --measure-startup: prints when the window was first exposed and painted, and
// the resident memory once the models are listed and the app is idle, then quits
// (bench/desktop drives it; see bench/README.md).
class StartupProbe : public QObject {
 public:
  StartupProbe(rmm::desktop::MainWindow& window, rmm::desktop::Backend& backend,
               const QElapsedTimer& since_main)
      : window_(window), since_main_(since_main) {
    window.windowHandle()->installEventFilter(this);
    connect(&backend, &rmm::desktop::Backend::modelsListed, this, [] {
      // Idle a while (the Monitor samples once a second), then the memory.
      QTimer::singleShot(1500, [] {
        std::printf("rss_idle_kib=%ld\n", rss_kib());
        std::fflush(stdout);
        QApplication::quit();
      });
    });
  }

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override {
    if (!done_ && event->type() == QEvent::Expose && window_.windowHandle()->isExposed()) {
      done_ = true;
      // After this event is handled: the first frame is painted by then.
      QTimer::singleShot(0, this, [this] {
        std::printf("window_exposed_ms=%.1f since_main_ms=%lld rss_exposed_kib=%ld\n",
                    ms_since_process_start(), since_main_.elapsed(), rss_kib());
        std::fflush(stdout);
      });
    }
    return QObject::eventFilter(watched, event);
  }

 private:
  rmm::desktop::MainWindow& window_;
  const QElapsedTimer& since_main_;
  bool done_ = false;
};

// --screenshot FILE: the whole screen as the platform shows it (on X11, the
// real framebuffer: xvfb-run in scripts/desktop-screenshots.sh), once the
// models are listed and the window has settled; then quits.
void screenshot_when_ready(rmm::desktop::MainWindow& window, rmm::desktop::Backend& backend,
                           const QString& file) {
  auto shoot = [&window, file] {
    const bool ok = window.screen()->grabWindow(0).save(file);
    std::printf("screenshot %s: %s\n", ok ? "saved" : "failed", qPrintable(file));
    std::fflush(stdout);
    QApplication::exit(ok ? 0 : 1);
  };
  // A listing with models in it (the first may come before the folders are scanned), or 10 s.
  auto* ready = new QObject(&window);
  QObject::connect(&backend, &rmm::desktop::Backend::modelsListed, ready,
                   [ready, &window, shoot](const rmm::desktop::ModelList& models) {
                     if (models.isEmpty()) return;
                     ready->deleteLater();
                     QTimer::singleShot(1500, &window, shoot);
                   });
  QTimer::singleShot(10000, ready, shoot);
}

}  // namespace

int main(int argc, char** argv) {
  QElapsedTimer since_main;
  since_main.start();
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("rmm-desktop"));
  QApplication::setOrganizationName(QStringLiteral("rmm"));
  QApplication::setApplicationVersion(QStringLiteral(RMM_VERSION));
  QApplication::setDesktopFileName(QStringLiteral("rmm-desktop"));

  QCommandLineParser cli;
  cli.setApplicationDescription(QStringLiteral("RunMyModel desktop app"));
  cli.addHelpOption();
  cli.addVersionOption();
  QCommandLineOption theme_opt(QStringLiteral("theme"), QStringLiteral("system (default), light or dark"),
                               QStringLiteral("THEME"), QStringLiteral("system"));
  QCommandLineOption log_opt(QStringLiteral("log-level"),
                             QStringLiteral("error, warn (default), info, debug"), QStringLiteral("LEVEL"),
                             QStringLiteral("warn"));
  QCommandLineOption probe_opt(
      QStringLiteral("measure-startup"),
      QStringLiteral("Print the time to the first painted window and the idle memory, "
                     "then quit (bench/desktop)"));
  QCommandLineOption shot_opt(QStringLiteral("screenshot"),
                              QStringLiteral("Save the screen to FILE once the window is ready, then quit"),
                              QStringLiteral("FILE"));
  cli.addOption(theme_opt);
  cli.addOption(log_opt);
  cli.addOption(probe_opt);
  cli.addOption(shot_opt);
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
  if (theme == rmm::desktop::Theme::System)
    new rmm::desktop::ThemeFollower(app);  // owned by app; follows the desktop's changes
  else
    rmm::desktop::apply_theme(app, theme);
  QApplication::setWindowIcon(rmm::desktop::app_icon());

  rmm::desktop::Backend backend;
  rmm::desktop::MainWindow window(backend);
  window.show();
  std::unique_ptr<StartupProbe> probe;
  if (cli.isSet(probe_opt)) probe = std::make_unique<StartupProbe>(window, backend, since_main);
  if (cli.isSet(shot_opt)) screenshot_when_ready(window, backend, cli.value(shot_opt));
  return QApplication::exec();
}
