#pragma once
// What every rmm-desktop test starts from: a private RMM_HOME (with the
// shared stories260K model linked into its models folder) and
// XDG_CONFIG_HOME, the light theme, the real Backend (engine, registry and
// store) and the main window shown and its models listed. Screenshots go to
// build/artifacts/desktop/NAME.png.
#include <QElapsedTimer>
#include <QString>
#include <QTemporaryDir>
#include <QTimer>
#include <memory>

#include "backend.hpp"
#include "main_window.hpp"

namespace rmm::test {

// How long the UI thread went without turning its event loop: a 5 ms timer's
// longest gap between two ticks while the probe runs (from its start).
class UiStallProbe {
 public:
  UiStallProbe();
  void start();
  void stop() { tick_.stop(); }
  qint64 worst() const { return worst_; }  // ms
  qint64 elapsed() const { return clock_.elapsed(); }
  int ticks() const { return ticks_; }

 private:
  QElapsedTimer clock_;
  QTimer tick_;
  qint64 last_ = 0, worst_ = 0;
  int ticks_ = 0;
};

class DesktopFixture {
 public:
  // Returns "" when ready, else why the test cannot run (a QSKIP reason or a failure).
  QString start();
  void stop();  // the window, then the backend

  desktop::Backend& backend() { return *backend_; }
  desktop::MainWindow& window() { return *window_; }
  QString home() const { return home_.path(); }
  QString database() const { return home_.filePath(QStringLiteral("rmm.db")); }
  // The shared model's name in the registry (stories260K…).
  const QString& modelName() const { return model_name_; }
  // The window as it is now, in light then dark: NAME-light.png and NAME-dark.png.
  bool screenshots(const QString& name);
  bool screenshot(const QString& name);

 private:
  QTemporaryDir home_;
  QTemporaryDir config_;
  std::unique_ptr<desktop::Backend> backend_;
  std::unique_ptr<desktop::MainWindow> window_;
  QString model_name_;
};

}  // namespace rmm::test
