// rmm-desktop's Monitor screen end to end.
#include <QTest>

#include "desktop_fixture.hpp"
#include "monitor_view.hpp"

using namespace rmm::desktop;

class MonitorTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void shows();
  void cleanupTestCase() { fx_.stop(); }

 private:
  rmm::test::DesktopFixture fx_;
};

void MonitorTest::initTestCase() {
  const QString why = fx_.start();
  if (why.startsWith(QLatin1String("skip: "))) QSKIP(qPrintable(why.mid(6)));
  QVERIFY2(why.isEmpty(), qPrintable(why));
}

void MonitorTest::shows() {
  fx_.window().showScreen(MainWindow::Monitor);
  QVERIFY(fx_.window().monitor().isVisible());
  QVERIFY(fx_.screenshots(QStringLiteral("monitor")));
}

QTEST_MAIN(MonitorTest)
#include "test_monitor.moc"
