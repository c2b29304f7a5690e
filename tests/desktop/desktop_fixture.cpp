#include "desktop_fixture.hpp"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QTest>

#include "chat_view.hpp"
#include "support/test_env.hpp"
#include "theme.hpp"

namespace rmm::test {

UiStallProbe::UiStallProbe() {
  tick_.setInterval(5);
  QObject::connect(&tick_, &QTimer::timeout, [this] {
    const qint64 now = clock_.elapsed();
    worst_ = std::max(worst_, now - last_);
    last_ = now;
    ++ticks_;
  });
}

void UiStallProbe::start() {
  last_ = worst_ = 0;
  ticks_ = 0;
  clock_.start();
  tick_.start();
}

QString DesktopFixture::start() {
  if (!home_.isValid() || !config_.isValid()) return QStringLiteral("no temporary folder");
  const auto model = shared_model("stories260K.gguf");
  if (model.empty()) return QStringLiteral("skip: the shared model stories260K.gguf is absent");
  qputenv("RMM_HOME", home_.path().toUtf8());
  qputenv("XDG_CONFIG_HOME", config_.path().toUtf8());
  if (!QDir(home_.path()).mkpath(QStringLiteral("models"))) return QStringLiteral("no models folder");
  if (!QFile::link(QString::fromStdString(model.string()),
                   home_.filePath(QStringLiteral("models/stories260K.gguf"))))
    return QStringLiteral("cannot link the model");
  QApplication::setApplicationName(QStringLiteral("rmm-desktop"));
  QApplication::setOrganizationName(QStringLiteral("rmm"));
  desktop::apply_theme(*qApp, desktop::Theme::Light);

  backend_ = std::make_unique<desktop::Backend>();
  QObject::connect(backend_.get(), &desktop::Backend::failed,
                   [](const QString& m) { qWarning("backend: %s", qPrintable(m)); });
  window_ = std::make_unique<desktop::MainWindow>(*backend_);
  window_->resize(1100, 720);
  window_->show();
  if (!QTest::qWaitForWindowExposed(window_.get())) return QStringLiteral("the window was not shown");
  auto* combo = window_->findChild<QComboBox*>(QStringLiteral("modelCombo"));
  if (!combo) return QStringLiteral("no model combo box");
  if (!QTest::qWaitFor([&] { return combo->count() > 0; }, 30000)) return QStringLiteral("no models listed");
  // A model is picked without anyone's help (the combo box has a placeholder text, so it would not be).
  if (combo->currentIndex() < 0) return QStringLiteral("the chat has no model picked");
  model_name_ = combo->itemText(combo->findText(QStringLiteral("stories260K"), Qt::MatchStartsWith));
  if (model_name_.isEmpty()) return QStringLiteral("stories260K is not listed");
  if (!window_->chat().selectModel(model_name_)) return QStringLiteral("cannot select the model");
  window_->chat().setMaxTokens(48);
  return QString();
}

void DesktopFixture::stop() {
  window_.reset();
  backend_.reset();
}

bool DesktopFixture::screenshot(const QString& name) {
  QCoreApplication::processEvents();
  // scripts/desktop-screenshots.sh (real X11 windows) puts its own beside these.
  const QString dir = qEnvironmentVariable("RMM_DESKTOP_ARTIFACTS", QStringLiteral(RMM_DESKTOP_ARTIFACTS));
  if (!QDir().mkpath(dir)) return false;
  return window_->grab().save(dir + QLatin1Char('/') + name + QStringLiteral(".png"));
}

bool DesktopFixture::screenshots(const QString& name) {
  bool ok = screenshot(name + QStringLiteral("-light"));
  desktop::apply_theme(*qApp, desktop::Theme::Dark);
  ok = screenshot(name + QStringLiteral("-dark")) && ok;
  desktop::apply_theme(*qApp, desktop::Theme::Light);
  return ok;
}

}  // namespace rmm::test
