// rmm-desktop's Chat screen end to end: the real engine, registry and store.
#include <QComboBox>
#include <QElapsedTimer>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <QTextBrowser>
#include <QTimer>

#include "backend.hpp"
#include "chat_view.hpp"
#include "desktop_fixture.hpp"
#include "main_window.hpp"
#include "store/store.hpp"

using namespace rmm::desktop;

class ChatTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void chatStreamsAndStores();
  void stopEndsTheAnswer();
  void cleanupTestCase() { fx_.stop(); }

 private:
  rmm::test::DesktopFixture fx_;
  MainWindow* window_ = nullptr;
  Backend* backend_ = nullptr;
  QString model_name_;
};

void ChatTest::initTestCase() {
  const QString why = fx_.start();
  if (why.startsWith(QLatin1String("skip: "))) QSKIP(qPrintable(why.mid(6)));
  QVERIFY2(why.isEmpty(), qPrintable(why));
  window_ = &fx_.window();
  backend_ = &fx_.backend();
  model_name_ = fx_.modelName();
}

void ChatTest::chatStreamsAndStores() {
  ChatView& chat = window_->chat();
  QSignalSpy done(&chat, &ChatView::answerCompleted);
  QSignalSpy tokens(backend_, &Backend::tokenArrived);

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
  auto db = rmm::store::open_store(fx_.database().toStdString());
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

  QVERIFY(fx_.screenshots(QStringLiteral("chat")));
}

void ChatTest::stopEndsTheAnswer() {
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
  auto db = rmm::store::open_store(fx_.database().toStdString());
  const auto path = rmm::store::current_path(*db->get_conversation(id.toStdString()));
  const bool empty_stop = reason == QLatin1String("cancelled") && done.at(0).at(0).toString().isEmpty();
  QCOMPARE(path.size(), size_t(empty_stop ? 2 : 4));
  for (const auto& m : path) QVERIFY(!m.content.empty());
  chat.setMaxTokens(48);
}

QTEST_MAIN(ChatTest)
#include "test_chat.moc"
