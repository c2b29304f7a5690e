// rmm-desktop's Monitor screen end to end: a real generation through the
// chat, then the figures the Monitor shows against independent sources (the
// timings the chat stored with the answer, /proc/meminfo, /proc/self/status).
#include <QFile>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>
#include <QTreeWidget>
#include <nlohmann/json.hpp>

#include "chart_line.hpp"
#include "chat_view.hpp"
#include "desktop_fixture.hpp"
#include "monitor_view.hpp"
#include "store/store.hpp"

using namespace rmm::desktop;

namespace {

// The first number in `text` (e.g. "123.4 tok/s" → 123.4), scaled by its unit when it has one.
double number_in(const QString& text, const QString& after = QString()) {
  const int from = after.isEmpty() ? 0 : text.indexOf(after);
  const auto m = QRegularExpression(QStringLiteral("([0-9]+(?:\\.[0-9]+)?)\\s*(GiB|MiB|ms|s\\b)?"))
                     .match(text, std::max(0, from));
  if (!m.hasMatch()) return -1;
  double v = m.captured(1).toDouble();
  const QString unit = m.captured(2);
  if (unit == QLatin1String("GiB")) v *= 1024.0 * 1024.0 * 1024.0;
  if (unit == QLatin1String("MiB")) v *= 1024.0 * 1024.0;
  if (unit == QLatin1String("s")) v *= 1000.0;
  return v;
}

// A field of /proc/meminfo or /proc/self/status, in bytes.
double proc_kib(const QString& file, const QByteArray& key) {
  QFile f(file);
  if (!f.open(QIODevice::ReadOnly)) return -1;
  for (const QByteArray& line : f.readAll().split('\n'))
    if (line.startsWith(key + ':'))
      return line.mid(key.size() + 1).trimmed().split(' ').value(0).toDouble() * 1024;
  return -1;
}

}  // namespace

class MonitorTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void showsAGeneration();
  void showsMemory();
  void cleanupTestCase() { fx_.stop(); }

 private:
  QLabel* label(const char* name) { return fx_.window().monitor().findChild<QLabel*>(QLatin1String(name)); }
  rmm::test::DesktopFixture fx_;
};

void MonitorTest::initTestCase() {
  const QString why = fx_.start();
  if (why.startsWith(QLatin1String("skip: "))) QSKIP(qPrintable(why.mid(6)));
  QVERIFY2(why.isEmpty(), qPrintable(why));
}

void MonitorTest::showsAGeneration() {
  MainWindow& w = fx_.window();
  MonitorView& monitor = w.monitor();
  QSignalSpy refreshed(&monitor, &MonitorView::refreshed);
  QTRY_VERIFY_WITH_TIMEOUT(refreshed.count() >= 1, 10000);
  QCOMPARE(monitor.snapshot().generations_total, 0);

  // One answer through the chat's widgets, as a user would.
  QSignalSpy done(&w.chat(), &ChatView::answerCompleted);
  QTest::keyClicks(w.findChild<QPlainTextEdit*>(QStringLiteral("messageEdit")),
                   QStringLiteral("Once upon a time"));
  QTest::mouseClick(w.findChild<QPushButton*>(QStringLiteral("sendButton")), Qt::LeftButton);
  QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 60000);
  const QString id = done.at(0).at(1).toString();
  QVERIFY(!id.isEmpty());

  w.showScreen(MainWindow::Monitor);
  QTRY_VERIFY_WITH_TIMEOUT(monitor.snapshot().generations_total == 1, 10000);

  // The timings the chat stored with the answer (from its GenerationResult).
  auto db = rmm::store::open_store(fx_.database().toStdString());
  const auto path = rmm::store::current_path(*db->get_conversation(id.toStdString()));
  QVERIFY(!path.empty());
  const auto t = nlohmann::json::parse(path.back().timings_json);
  const int generated = t.at("generated_tokens").get<int>();
  const double generation_ms = t.at("generation_ms").get<double>();
  const double ttft_ms = t.at("queue_ms").get<double>() + t.at("prompt_ms").get<double>();
  QVERIFY2(generated >= 2 && generation_ms > 0, "too short an answer to have a speed");
  const double speed = (generated - 1) * 1000.0 / generation_ms;

  const QString shown_speed = label("lastSpeed")->text();
  const QString shown_ttft = label("lastTtft")->text();
  qInfo("stored: %d tokens, %.1f tok/s, first token %.2f ms; shown: %s, %s", generated, speed, ttft_ms,
        qPrintable(shown_speed), qPrintable(shown_ttft));
  QVERIFY2(std::abs(number_in(shown_speed) - speed) <= 0.051 + speed * 1e-9, qPrintable(shown_speed));
  // Written in whole ms below a second, in hundredths of a second above.
  QVERIFY2(std::abs(number_in(shown_ttft) - ttft_ms) <= (ttft_ms < 1000 ? 0.51 : 5.1),
           qPrintable(shown_ttft));
  QVERIFY(label("lastSpeedDetail")->text().contains(QString::number(generated)));
  QVERIFY(label("minuteLabel")->text().contains(QStringLiteral("1 generation")));
  QVERIFY(label("loadedLabel")->text().contains(fx_.modelName()));

  // The chart's last point and the table's row are that generation.
  auto* chart = monitor.findChild<LineChart*>(QStringLiteral("speedChart"));
  QCOMPARE(chart->series().size(), 1);
  QCOMPARE(chart->series()[0].values.size(), 1);
  QVERIFY(std::abs(chart->series()[0].values.back() - speed) < 1e-6 * std::max(1.0, speed));
  auto* table = monitor.findChild<QTreeWidget*>(QStringLiteral("generationsTable"));
  QCOMPARE(table->topLevelItemCount(), 1);
  QCOMPARE(table->topLevelItem(0)->text(1), fx_.modelName());
  QCOMPARE(table->topLevelItem(0)->text(3), QString::number(generated));
}

void MonitorTest::showsMemory() {
  MonitorView& monitor = fx_.window().monitor();
  QSignalSpy refreshed(&monitor, &MonitorView::refreshed);
  QTRY_VERIFY_WITH_TIMEOUT(refreshed.count() >= 2, 10000);  // a few points on the memory chart

  const double total = proc_kib(QStringLiteral("/proc/meminfo"), "MemTotal");
  const double used = total - proc_kib(QStringLiteral("/proc/meminfo"), "MemAvailable");
  const QString ram = label("ramLabel")->text(), detail = label("ramDetail")->text();
  qInfo("RAM shown: %s, %s; /proc/meminfo: %.0f MiB used of %.0f MiB", qPrintable(ram), qPrintable(detail),
        used / 1048576, total / 1048576);
  // The total exactly (to the figure's rounding); the use moves with other processes.
  QVERIFY2(std::abs(number_in(detail, QStringLiteral("of")) - total) <= 0.006 * 1073741824.0,
           qPrintable(detail));
  QVERIFY2(std::abs(number_in(ram) - used) <= 0.2 * total, qPrintable(ram));

  // The app's share: this process (the models run in it) at least, about its VmRSS now.
  const double rss = proc_kib(QStringLiteral("/proc/self/status"), "VmRSS");
  const double app = number_in(label("appRamLabel")->text());
  qInfo("app shown: %s (%s); VmRSS now %.0f MiB", qPrintable(label("appRamLabel")->text()),
        qPrintable(label("appRamDetail")->text()), rss / 1048576);
  QVERIFY(app > 0);
  QVERIFY2(std::abs(app - rss) <= 0.25 * rss, qPrintable(label("appRamLabel")->text()));
  QVERIFY(!label("vramLabel")->text().isEmpty());

  auto* chart = monitor.findChild<LineChart*>(QStringLiteral("memoryChart"));
  QVERIFY(chart->series().size() >= 2);
  QVERIFY(chart->series()[0].values.size() >= 2);
  QVERIFY(fx_.screenshots(QStringLiteral("monitor")));
}

QTEST_MAIN(MonitorTest)
#include "test_monitor.moc"
