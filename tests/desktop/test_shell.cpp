// rmm-desktop's window shell: the shortcuts, the remembered window state, the
// themes, the tray and the global shortcut where the platform has none.
#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFrame>
#include <QScreen>
#include <QSettings>
#include <QSystemTrayIcon>
#include <QTest>

#include "app_core.hpp"
#include "chart_line.hpp"
#include "core/error.hpp"
#include "desktop_fixture.hpp"
#include "monitor_view.hpp"
#include "shortcut_global.hpp"
#include "support/test_env.hpp"
#include "theme.hpp"
#include "tray_icon.hpp"

using namespace rmm::desktop;

namespace {

// Offscreen, or X11 without a window manager (xvfb-run), nothing activates the
// window for the platform: the widgets' active window is set by hand then.
void activate(QWidget& w) {
  w.activateWindow();
  if (!QTest::qWaitForWindowActive(&w, 1000)) QApplication::setActiveWindow(&w);
}

}  // namespace

class ShellTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void shortcutsSwitchScreens();
  void fullScreenToggles();
  void windowStateSurvivesARestart();
  void themesRecolour();
  void trayAndGlobalShortcut();
  void hostTakesServeSettings();
  void cleanupTestCase() { fx_.stop(); }

 private:
  rmm::test::DesktopFixture fx_;
};

void ShellTest::initTestCase() {
  const QString why = fx_.start();
  if (why.startsWith(QLatin1String("skip: "))) QSKIP(qPrintable(why.mid(6)));
  QVERIFY2(why.isEmpty(), qPrintable(why));
}

void ShellTest::shortcutsSwitchScreens() {
  MainWindow& w = fx_.window();
  activate(w);
  const MainWindow::Screen order[] = {MainWindow::Chat, MainWindow::Architect, MainWindow::Models,
                                      MainWindow::Monitor};
  for (int i = 3; i >= 0; --i) {  // from the last, so that each press changes the screen
    QTest::keyClick(&w, static_cast<Qt::Key>(Qt::Key_1 + i), Qt::ControlModifier);
    QCOMPARE(w.currentScreen(), order[i]);
  }
  QTest::keyClick(&w, Qt::Key_4, Qt::ControlModifier);
  QVERIFY(w.monitor().isVisible());
  // Ctrl+N: a new chat, on the Chat screen.
  QTest::keyClick(&w, Qt::Key_N, Qt::ControlModifier);
  QCOMPARE(w.currentScreen(), MainWindow::Chat);
}

void ShellTest::fullScreenToggles() {
  MainWindow& w = fx_.window();
  QVERIFY(!w.isFullScreen());
  QTest::keyClick(&w, Qt::Key_F11);
  QTRY_VERIFY(w.windowState() & Qt::WindowFullScreen);
  QTest::keyClick(&w, Qt::Key_F, Qt::ControlModifier | Qt::ShiftModifier);
  QTRY_VERIFY(!(w.windowState() & Qt::WindowFullScreen));
}

void ShellTest::windowStateSurvivesARestart() {
  MainWindow& w = fx_.window();
  const QRect screen = w.screen()->availableGeometry();
  const QSize size = w.minimumSizeHint().expandedTo(QSize(1000, 640)) + QSize(13, 7);
  const QRect want(QPoint(screen.x() + 37, screen.y() + 41), size);
  w.setGeometry(want);
  QTRY_COMPARE(w.geometry(), want);
  w.close();  // no tray here: it closes, and saves its state
  QVERIFY(!w.isVisible());
  QCOMPARE(QSettings().value(QStringLiteral("window/screen")).toString(), w.screen()->name());

  {
    MainWindow again(fx_.backend());
    again.show();
    QVERIFY(QTest::qWaitForWindowExposed(&again));
    QCOMPARE(again.geometry(), want);
    QCOMPARE(again.screen()->name(), w.screen()->name());
    QVERIFY(!again.isMaximized() && !again.isFullScreen());
    // Maximized is remembered too.
    again.showMaximized();
    QTRY_VERIFY(again.isMaximized());
    again.close();
  }
  {
    MainWindow third(fx_.backend());
    third.show();
    QVERIFY(QTest::qWaitForWindowExposed(&third));
    QTRY_VERIFY(third.isMaximized());
    third.showNormal();
    third.setGeometry(want);
    third.close();
  }
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
}

void ShellTest::themesRecolour() {
  MainWindow& w = fx_.window();
  w.showScreen(MainWindow::Monitor);
  auto* chart = w.monitor().findChild<LineChart*>(QStringLiteral("speedChart"));
  QVERIFY(chart);
  // The chart's card, inside its border, drawn in the theme's base colour.
  auto card = [&] {
    const QImage img = chart->grab().toImage();
    return img.pixelColor(img.width() / 2, img.height() - 4);
  };
  QCOMPARE(apply_theme(*qApp, Theme::Dark), Theme::Dark);
  QCoreApplication::processEvents();
  QVERIFY(is_dark(w.palette()));
  QVERIFY(is_dark(chart->palette()));
  QVERIFY2(card().lightness() < 80, qPrintable(card().name()));
  QCOMPARE(apply_theme(*qApp, Theme::Light), Theme::Light);
  QCoreApplication::processEvents();
  QVERIFY(!is_dark(w.palette()));
  QVERIFY2(card().lightness() > 200, qPrintable(card().name()));

  // System: the palette that matches the platform's, read under ours (the
  // offscreen platform's is light); following it keeps it.
  const bool platform_dark = platform_prefers_dark(*qApp);
  QCOMPARE(is_dark(QApplication::palette()), false);  // ours stays in place while it looks
  QCOMPARE(apply_theme(*qApp, Theme::System), platform_dark ? Theme::Dark : Theme::Light);
  QCOMPARE(is_dark(w.palette()), platform_dark);
  ThemeFollower follower(*qApp);
  QCOMPARE(follower.current(), platform_dark ? Theme::Dark : Theme::Light);
  apply_theme(*qApp, Theme::Light);
}

void ShellTest::trayAndGlobalShortcut() {
  MainWindow& w = fx_.window();
  QVERIFY(!w.windowIcon().isNull());
  QVERIFY(!QApplication::windowIcon().isNull() || !w.windowIcon().pixmap(64).isNull());
  const QString dir = QStringLiteral(RMM_DESKTOP_ARTIFACTS);
  QVERIFY(QDir().mkpath(dir));
  QVERIFY(app_icon().pixmap(256).save(dir + QStringLiteral("/icon-256.png")));
  QVERIFY(app_icon().pixmap(32).save(dir + QStringLiteral("/icon-32.png")));

  if (QSystemTrayIcon::isSystemTrayAvailable()) {
    QVERIFY(w.tray() != nullptr);
    QVERIFY(w.tray()->icon().isVisible());
  } else {
    QVERIFY(w.tray() == nullptr);
  }
  const bool x11 = QGuiApplication::platformName() == QLatin1String("xcb");
  qInfo("platform %s, tray %s, global shortcut: %s", qPrintable(QGuiApplication::platformName()),
        w.tray() ? "yes" : "no", qPrintable(w.globalShortcut().description()));
  if (x11) {  // Xvfb: no other client holds Ctrl+Alt+R
    QVERIFY2(w.globalShortcut().active(), qPrintable(w.globalShortcut().description()));
  } else {
    QVERIFY(!w.globalShortcut().active());
    QVERIFY(w.globalShortcut().description().contains(QGuiApplication::platformName()));
  }
  // Show/Hide, as the tray and the global shortcut call it.
  activate(w);
  w.toggleVisible();
  QVERIFY(!w.isVisible());
  w.toggleVisible();
  QVERIFY(w.isVisible());
}

// The model host takes `rmm serve`'s settings from the environment (and
// config.toml): the app plans and loads as the server here would.
void ShellTest::hostTakesServeSettings() {
  {
    rmm::test::ScopedEnv ctx("RMM_CTX_SIZE", "1024");
    rmm::test::ScopedEnv threads("RMM_THREADS", "1");
    rmm::test::ScopedEnv layers("RMM_GPU_LAYERS", "0");
    rmm::test::ScopedEnv fa("RMM_FLASH_ATTN", "off");
    rmm::test::ScopedEnv tmpl("RMM_CHAT_TEMPLATE", "llama3");
    rmm::test::ScopedEnv mem("RMM_MAX_MEMORY", "cpu=3GiB");
    rmm::serving::HostOptions ho;
    AppCore::engine_settings(ho);
    QCOMPARE(ho.context.n_ctx, 1024);
    QCOMPARE(ho.context.n_threads, 1);
    QCOMPARE(ho.gpu_layers, 0);
    QCOMPARE(ho.context.flash_attn, 0);
    QCOMPARE(QString::fromStdString(ho.chat_template), QStringLiteral("llama3"));
    QVERIFY(!ho.budgets.empty());
    QCOMPARE(QString::fromStdString(ho.budgets.front().device), QStringLiteral("CPU"));
    QCOMPARE(ho.budgets.front().bytes, uint64_t(3) << 30);
  }
  {
    rmm::test::ScopedEnv fa("RMM_FLASH_ATTN", "sometimes");
    rmm::serving::HostOptions ho;
    QVERIFY_THROWS_EXCEPTION(rmm::Error, AppCore::engine_settings(ho));
  }
  {
    rmm::test::ScopedEnv tmpl("RMM_CHAT_TEMPLATE", "{% broken");
    rmm::serving::HostOptions ho;
    QVERIFY_THROWS_EXCEPTION(rmm::Error, AppCore::engine_settings(ho));
  }
  rmm::serving::HostOptions ho;  // nothing set: the table's defaults
  AppCore::engine_settings(ho);
  QCOMPARE(ho.context.n_ctx, 0);
  QCOMPARE(ho.gpu_layers, -1);
  QCOMPARE(ho.context.flash_attn, -1);
  QVERIFY(ho.chat_template.empty());
  QVERIFY(ho.budgets.empty());
}

QTEST_MAIN(ShellTest)
#include "test_shell.moc"
