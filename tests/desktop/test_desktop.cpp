// rmm-desktop end to end: the main window with the real engine, registry and
// store, a private RMM_HOME and XDG_CONFIG_HOME.
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QTimer>
#include <memory>

#include "backend.hpp"
#include "chat_view.hpp"
#include "main_window.hpp"
#include "model_table.hpp"
#include "models_view.hpp"
#include "store/store.hpp"
#include "support/test_env.hpp"
#include "theme.hpp"

using namespace rmm::desktop;

class DesktopTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void chatStreamsAndStores();
  void stopEndsTheAnswer();
  void modelsViewListsTheRegistry();
  void cleanupTestCase();

 private:
  void screenshot(const QString& name);

  QTemporaryDir home_;
  QTemporaryDir config_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<MainWindow> window_;
  QString model_name_;
};

void DesktopTest::initTestCase() {
  QVERIFY(home_.isValid() && config_.isValid());
  const auto model = rmm::test::shared_model("stories260K.gguf");
  if (model.empty()) QSKIP("the shared model stories260K.gguf is absent");
  qputenv("RMM_HOME", home_.path().toUtf8());
  qputenv("XDG_CONFIG_HOME", config_.path().toUtf8());
  QVERIFY(QDir(home_.path()).mkpath(QStringLiteral("models")));
  QVERIFY(QFile::link(QString::fromStdString(model.string()),
                      home_.filePath(QStringLiteral("models/stories260K.gguf"))));
  QApplication::setApplicationName(QStringLiteral("rmm-desktop"));
  QApplication::setOrganizationName(QStringLiteral("rmm"));
  apply_theme(*qApp, Theme::Light);

  backend_ = std::make_unique<Backend>();
  connect(backend_.get(), &Backend::failed, [](const QString& m) { qWarning("backend: %s", qPrintable(m)); });
  window_ = std::make_unique<MainWindow>(*backend_);
  window_->resize(1100, 720);
  window_->show();
  QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
  auto* combo = window_->findChild<QComboBox*>(QStringLiteral("modelCombo"));
  QVERIFY(combo);
  QTRY_VERIFY_WITH_TIMEOUT(combo->count() > 0, 30000);
  model_name_ = combo->itemText(combo->findText(QStringLiteral("stories260K"), Qt::MatchStartsWith));
  QVERIFY2(!model_name_.isEmpty(), qPrintable(combo->itemText(0)));
  QVERIFY(window_->chat().selectModel(model_name_));
  window_->chat().setMaxTokens(48);
}

void DesktopTest::chatStreamsAndStores() {
  ChatView& chat = window_->chat();
  QSignalSpy done(&chat, &ChatView::answerCompleted);
  QSignalSpy tokens(backend_.get(), &Backend::tokenArrived);

  // The UI thread must keep turning while the model loads and the answer streams.
  QElapsedTimer clock;
  qint64 last = 0, worst = 0;
  int ticks = 0;
  QTimer tick;
  tick.setInterval(5);
  connect(&tick, &QTimer::timeout, [&] {
    const qint64 now = clock.elapsed();
    worst = std::max(worst, now - last);
    last = now;
    ++ticks;
  });
  clock.start();
  tick.start();

  const QString question = QStringLiteral("Once upon a time");
  auto* input = window_->findChild<QPlainTextEdit*>(QStringLiteral("messageEdit"));
  QTest::keyClicks(input, question);
  QTest::mouseClick(window_->findChild<QPushButton*>(QStringLiteral("sendButton")), Qt::LeftButton);
  QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 60000);
  tick.stop();

  const QString answer = done.at(0).at(0).toString();
  const QString id = done.at(0).at(1).toString();
  QVERIFY(!answer.trimmed().isEmpty());
  QVERIFY(!id.isEmpty());
  QVERIFY2(tokens.count() >= 2, "the answer came in one piece, not streamed");
  QString streamed;
  for (const auto& t : tokens) streamed += t.at(0).toString();
  QCOMPARE(streamed, answer);
  QVERIFY(window_->findChild<QTextBrowser*>(QStringLiteral("transcript"))->toPlainText().contains(answer));
  qInfo("answer: %d tokens, UI timer: %d ticks, longest gap %lld ms", int(tokens.count()), ticks, worst);
  QVERIFY2(worst < 250, qPrintable(QStringLiteral("the UI thread stalled for %1 ms").arg(worst)));

  // What the store holds is what `rmm serve`'s /api/chat/history shows.
  auto db = rmm::store::open_store(home_.filePath(QStringLiteral("rmm.db")).toStdString());
  const auto c = db->get_conversation(id.toStdString());
  QVERIFY(c.has_value());
  const auto path = rmm::store::current_path(*c);
  QCOMPARE(path.size(), size_t(2));
  QCOMPARE(QString::fromStdString(path[0].role), QStringLiteral("user"));
  QCOMPARE(QString::fromStdString(path[0].content), question);
  QCOMPARE(QString::fromStdString(path[1].role), QStringLiteral("assistant"));
  QCOMPARE(QString::fromStdString(path[1].content), answer);
  QCOMPARE(QString::fromStdString(path[1].model), model_name_);
  QCOMPARE(path[1].parent_id, path[0].id);
  QCOMPARE(c->current_leaf, path[1].id);

  screenshot(QStringLiteral("chat-light"));
  apply_theme(*qApp, Theme::Dark);
  screenshot(QStringLiteral("chat-dark"));
  apply_theme(*qApp, Theme::Light);
}

void DesktopTest::stopEndsTheAnswer() {
  ChatView& chat = window_->chat();
  chat.setMaxTokens(-1);
  QSignalSpy done(&chat, &ChatView::answerCompleted);
  auto* stop = window_->findChild<QPushButton*>(QStringLiteral("stopButton"));
  auto* send = window_->findChild<QPushButton*>(QStringLiteral("sendButton"));
  QTest::keyClicks(window_->findChild<QPlainTextEdit*>(QStringLiteral("messageEdit")),
                   QStringLiteral("Tell me a long story"));
  QTest::mouseClick(send, Qt::LeftButton);
  QVERIFY(stop->isEnabled());
  QVERIFY(!send->isEnabled());
  QTest::mouseClick(stop, Qt::LeftButton);
  QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 60000);
  // Stopped, or (a tiny model is quick) ended on its own first: either way the chat is ready again.
  const QString reason = done.at(0).at(2).toString();
  qInfo("stopped answer: %s after %d characters", qPrintable(reason),
        int(done.at(0).at(0).toString().size()));
  QVERIFY2(reason == QLatin1String("cancelled") || reason == QLatin1String("stop") ||
               reason == QLatin1String("length"),
           qPrintable(reason));
  QTRY_VERIFY(send->isEnabled());
  QVERIFY(!stop->isEnabled());
  // The second exchange continues the same conversation; an answer stopped before its first
  // word is not kept (nor its question), a partial one is.
  const QString id = done.at(0).at(1).toString();
  QVERIFY(!id.isEmpty());
  auto db = rmm::store::open_store(home_.filePath(QStringLiteral("rmm.db")).toStdString());
  const auto path = rmm::store::current_path(*db->get_conversation(id.toStdString()));
  const bool empty_stop = reason == QLatin1String("cancelled") && done.at(0).at(0).toString().isEmpty();
  QCOMPARE(path.size(), size_t(empty_stop ? 2 : 4));
  for (const auto& m : path) QVERIFY(!m.content.empty());
  chat.setMaxTokens(48);
}

void DesktopTest::modelsViewListsTheRegistry() {
  window_->showScreen(MainWindow::Models);
  auto* view = window_->findChild<QTableView*>(QStringLiteral("modelsTable"));
  QVERIFY(view && view->isVisible());
  const ModelTable& table = window_->models().table();
  QTRY_VERIFY_WITH_TIMEOUT(table.rowCount() > 0, 30000);
  int row = -1;
  for (int r = 0; r < table.rowCount(); ++r) {
    if (table.index(r, ModelTable::Name).data().toString() == model_name_) row = r;
  }
  QVERIFY(row >= 0);
  QCOMPARE(table.index(row, ModelTable::Kind).data().toString(), QStringLiteral("chat"));
  QCOMPARE(table.index(row, ModelTable::Size).data().toString(), QStringLiteral("1.1 MiB"));
  QVERIFY(table.index(row, ModelTable::Context).data().toString() != QStringLiteral("–"));
  QVERIFY(table.index(row, ModelTable::Parameters).data().toString() != QStringLiteral("–"));
  screenshot(QStringLiteral("models-light"));
  apply_theme(*qApp, Theme::Dark);
  screenshot(QStringLiteral("models-dark"));
  apply_theme(*qApp, Theme::Light);
  window_->showScreen(MainWindow::Chat);
}

void DesktopTest::cleanupTestCase() {
  window_.reset();
  backend_.reset();
}

void DesktopTest::screenshot(const QString& name) {
  QCoreApplication::processEvents();
  const QString dir = QStringLiteral(RMM_DESKTOP_ARTIFACTS);
  QVERIFY(QDir().mkpath(dir));
  QVERIFY(window_->grab().save(dir + QLatin1Char('/') + name + QStringLiteral(".png")));
}

QTEST_MAIN(DesktopTest)
#include "test_desktop.moc"
