// rmm-desktop's Architect screen end to end.
#include <QTest>

#include "architect_view.hpp"
#include "desktop_fixture.hpp"

using namespace rmm::desktop;

class ArchitectTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void shows();
  void cleanupTestCase() { fx_.stop(); }

 private:
  rmm::test::DesktopFixture fx_;
};

void ArchitectTest::initTestCase() {
  const QString why = fx_.start();
  if (why.startsWith(QLatin1String("skip: "))) QSKIP(qPrintable(why.mid(6)));
  QVERIFY2(why.isEmpty(), qPrintable(why));
}

void ArchitectTest::shows() {
  fx_.window().showScreen(MainWindow::Architect);
  QVERIFY(fx_.window().architect().isVisible());
  QVERIFY(fx_.screenshots(QStringLiteral("architect")));
}

QTEST_MAIN(ArchitectTest)
#include "test_architect.moc"
