// rmm-desktop's Models screen end to end: the registry's library.
#include <QTableView>
#include <QTest>

#include "desktop_fixture.hpp"
#include "model_table.hpp"
#include "models_view.hpp"

using namespace rmm::desktop;

class ModelsTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void listsTheRegistry();
  void cleanupTestCase() { fx_.stop(); }

 private:
  rmm::test::DesktopFixture fx_;
};

void ModelsTest::initTestCase() {
  const QString why = fx_.start();
  if (why.startsWith(QLatin1String("skip: "))) QSKIP(qPrintable(why.mid(6)));
  QVERIFY2(why.isEmpty(), qPrintable(why));
}

void ModelsTest::listsTheRegistry() {
  MainWindow& window = fx_.window();
  window.showScreen(MainWindow::Models);
  auto* view = window.findChild<QTableView*>(QStringLiteral("modelsTable"));
  QVERIFY(view && view->isVisible());
  const ModelTable& table = window.models().table();
  QTRY_VERIFY_WITH_TIMEOUT(table.rowCount() > 0, 30000);
  int row = -1;
  for (int r = 0; r < table.rowCount(); ++r) {
    if (table.index(r, ModelTable::Name).data().toString() == fx_.modelName()) row = r;
  }
  QVERIFY(row >= 0);
  QCOMPARE(table.index(row, ModelTable::Kind).data().toString(), QStringLiteral("chat"));
  // stories260K.gguf is 1,185,376 bytes (ls -l): 1.13 MiB.
  QCOMPARE(table.index(row, ModelTable::Size).data().toString(), QStringLiteral("1.1 MiB"));
  QVERIFY(table.index(row, ModelTable::Context).data().toString() != QStringLiteral("–"));
  QVERIFY(table.index(row, ModelTable::Parameters).data().toString() != QStringLiteral("–"));
  QVERIFY(fx_.screenshots(QStringLiteral("models")));
}

QTEST_MAIN(ModelsTest)
#include "test_models.moc"
