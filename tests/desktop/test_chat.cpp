// rmm-desktop's Chat screen end to end: the real engine, registry and store,
// and `rmm serve` reading back what the app stored.
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFile>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QTextBrowser>
#include <QTextCursor>
#include <QTextDocument>
#include <QTimer>
#include <QToolButton>
#include <cmath>
#include <csignal>
#include <nlohmann/json.hpp>

#include "backend.hpp"
#include "chat_view.hpp"
#include "conversation_list.hpp"
#include "desktop_fixture.hpp"
#include "main_window.hpp"
#include "markdown_render.hpp"
#include "store/store.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "token_view.hpp"

using namespace rmm::desktop;

namespace {

// Every token event the backend streamed, in order (they come in batches).
std::vector<rmm::engine::TokenEvent> events_of(const QSignalSpy& spy) {
  std::vector<rmm::engine::TokenEvent> out;
  for (const auto& args : spy)
    for (const auto& e : args.at(0).value<TokenBatch>()) out.push_back(e);
  return out;
}

// Whitespace-insensitive: Markdown joins a paragraph's lines.
QString flat(const QString& s) { return s.simplified(); }

QString percent(float logprob) {
  return QString::number(std::isfinite(logprob) ? std::exp(double(logprob)) * 100.0 : 0.0, 'f', 1) +
         QLatin1Char('%');
}

// The store as another process would read it.
std::optional<rmm::store::Conversation> stored(const QString& db, const QString& id) {
  return rmm::store::open_store(db.toStdString())->get_conversation(id.toStdString());
}

const rmm::store::ChatMessage* message(const rmm::store::Conversation& c, int64_t id) {
  for (const auto& m : c.messages) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

}  // namespace

class ChatTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void chatStreamsAndStores();
  void stopEndsTheAnswer();
  void longAnswerKeepsTheUiTurning();
  void regenerateMakesASiblingAndBranchesSwitch();
  void editAndResendMakesASiblingQuestion();
  void parametersReachTheEngine();
  void keyboard();
  void tokenViewShowsTheEventsAndForks();
  void conversationListSearchRenameDeleteExport();
  void serveReadsWhatTheAppStored();
  void modelMarkupStaysText();
  void cleanupTestCase() { fx_.stop(); }

 private:
  void type_and_send(const QString& text);
  QString wait_answer(QSignalSpy& done, int count = 1);
  QTextBrowser* transcript() { return window_->findChild<QTextBrowser*>(QStringLiteral("transcript")); }
  rmm::store::Conversation current();

  rmm::test::DesktopFixture fx_;
  MainWindow* window_ = nullptr;
  Backend* backend_ = nullptr;
  ChatView* chat_ = nullptr;
  QString model_name_;
  QString fork_conversation_;  // the conversation with branches and a fork, for `rmm serve`
};

void ChatTest::initTestCase() {
  const QString why = fx_.start();
  if (why.startsWith(QLatin1String("skip: "))) QSKIP(qPrintable(why.mid(6)));
  QVERIFY2(why.isEmpty(), qPrintable(why));
  window_ = &fx_.window();
  backend_ = &fx_.backend();
  chat_ = &window_->chat();
  model_name_ = fx_.modelName();
  window_->activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(window_));
}

void ChatTest::type_and_send(const QString& text) {
  auto* input = window_->findChild<QPlainTextEdit*>(QStringLiteral("messageEdit"));
  input->setFocus();
  QTest::keyClicks(input, text);
  QTest::mouseClick(window_->findChild<QPushButton*>(QStringLiteral("sendButton")), Qt::LeftButton);
}

QString ChatTest::wait_answer(QSignalSpy& done, int count) {
  if (!QTest::qWaitFor([&] { return done.count() >= count; }, 60000)) return QStringLiteral("<timeout>");
  // The view takes the stored conversation before the answer is reported complete.
  return done.at(count - 1).at(0).toString();
}

rmm::store::Conversation ChatTest::current() {
  const auto c = stored(fx_.database(), chat_->conversationId());
  return c ? *c : rmm::store::Conversation();
}

void ChatTest::chatStreamsAndStores() {
  QSignalSpy done(chat_, &ChatView::answerCompleted);
  QSignalSpy tokens(backend_, &Backend::tokensArrived);

  // The UI thread must keep turning while the model loads and the answer streams.
  rmm::test::UiStallProbe probe;
  probe.start();

  const QString question = QStringLiteral("Once upon a time");
  type_and_send(question);
  QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 60000);
  probe.stop();

  const QString answer = done.at(0).at(0).toString();
  const QString id = done.at(0).at(1).toString();
  QVERIFY(!answer.trimmed().isEmpty());
  QVERIFY(!id.isEmpty());
  QVERIFY2(tokens.count() >= 2, "the answer came in one piece, not streamed");
  const auto events = events_of(tokens);
  QString streamed;
  for (const auto& e : events) streamed += QString::fromStdString(e.text);
  QCOMPARE(streamed, answer);
  QVERIFY(flat(transcript()->toPlainText()).contains(flat(answer)));
  qInfo("answer: %d tokens in %d batches, UI timer: %d ticks, longest gap %lld ms", int(events.size()),
        int(tokens.count()), probe.ticks(), probe.worst());
  QVERIFY2(probe.worst() < 250,
           qPrintable(QStringLiteral("the UI thread stalled for %1 ms").arg(probe.worst())));

  // What the store holds is what `rmm serve`'s /api/chat/history shows.
  const auto c = stored(fx_.database(), id);
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
  // The token events are kept with the answer (one per token, as streamed).
  const auto stored_events = nlohmann::json::parse(path[1].logprobs_json);
  QCOMPARE(stored_events.size(), events.size());
  QCOMPARE(size_t(path[1].completion_tokens), events.size());
  // The conversation is listed, and marked as the open one.
  QTRY_VERIFY(chat_->conversations().ids().contains(id));
  QCOMPARE(chat_->conversations().current(), id);
}

void ChatTest::stopEndsTheAnswer() {
  chat_->setMaxTokens(-1);
  QSignalSpy done(chat_, &ChatView::answerCompleted);
  auto* stop = window_->findChild<QPushButton*>(QStringLiteral("stopButton"));
  auto* send = window_->findChild<QPushButton*>(QStringLiteral("sendButton"));
  type_and_send(QStringLiteral("Tell me a long story"));
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
  const auto path = rmm::store::current_path(*stored(fx_.database(), id));
  const bool empty_stop = reason == QLatin1String("cancelled") && done.at(0).at(0).toString().isEmpty();
  QCOMPARE(path.size(), size_t(empty_stop ? 2 : 4));
  for (const auto& m : path) QVERIFY(!m.content.empty());
  chat_->setMaxTokens(48);
}

// A longer answer, each token drawn in the transcript and the token view as it comes.
void ChatTest::longAnswerKeepsTheUiTurning() {
  chat_->setMaxTokens(400);
  chat_->showTokens(true);
  chat_->setMarkdownInterval(20);  // the model is quick: Markdown passes while it streams
  const int passes = chat_->markdownPasses();
  QSignalSpy done(chat_, &ChatView::answerCompleted);
  QSignalSpy tokens(backend_, &Backend::tokensArrived);
  rmm::test::UiStallProbe probe;
  probe.start();
  chat_->regenerate();
  wait_answer(done);
  probe.stop();
  qInfo("long answer: %d tokens in %lld ms, longest UI gap %lld ms", int(events_of(tokens).size()),
        probe.elapsed(), probe.worst());
  QVERIFY2(probe.worst() < 250,
           qPrintable(QStringLiteral("the UI thread stalled for %1 ms").arg(probe.worst())));
  QCOMPARE(chat_->tokens().events().size(), events_of(tokens).size());
  qInfo("Markdown passes while streaming: %d", chat_->markdownPasses() - passes);
  QVERIFY(chat_->markdownPasses() > passes);
  // Then the stored answer, drawn once more, whole.
  QVERIFY(flat(transcript()->toPlainText()).contains(flat(wait_answer(done))));
  chat_->setMarkdownInterval(250);
  chat_->showTokens(false);
  chat_->setMaxTokens(48);
}

void ChatTest::regenerateMakesASiblingAndBranchesSwitch() {
  QSignalSpy done(chat_, &ChatView::answerCompleted);
  const auto before = current();
  const auto first = rmm::store::current_path(before).back();
  QCOMPARE(QString::fromStdString(first.role), QStringLiteral("assistant"));
  // The Regenerate link of the answer.
  emit transcript()->anchorClicked(QUrl(QStringLiteral("rmm:regen/%1").arg(first.id)));
  const QString second = wait_answer(done);
  QVERIFY(!second.isEmpty());

  const auto after = current();
  const auto second_msg = *message(after, after.current_leaf);
  QCOMPARE(second_msg.parent_id, first.parent_id);  // a sibling of the first answer
  QVERIFY(second_msg.id != first.id);
  QCOMPARE(QString::fromStdString(second_msg.content), second);
  QCOMPARE(after.messages.size(), before.messages.size() + 1);
  const size_t n = chat_->siblings(second_msg.id).size();
  QVERIFY(n >= 2);
  QVERIFY(transcript()->toPlainText().contains(QStringLiteral("‹ %1/%1 ›").arg(n)));
  QVERIFY(flat(transcript()->toPlainText()).contains(flat(second)));

  // ‹ shows the answer before, in the view and as the store's current leaf.
  emit transcript()->anchorClicked(QUrl(QStringLiteral("rmm:prev/%1").arg(second_msg.id)));
  QVERIFY(transcript()->toPlainText().contains(QStringLiteral("‹ %1/%2 ›").arg(n - 1).arg(n)));
  QVERIFY(flat(transcript()->toPlainText()).contains(flat(QString::fromStdString(first.content))));
  QCOMPARE(chat_->currentPath().back().id, first.id);
  QTRY_COMPARE(current().current_leaf, first.id);
  // › goes back to the second.
  emit transcript()->anchorClicked(QUrl(QStringLiteral("rmm:next/%1").arg(first.id)));
  QVERIFY(flat(transcript()->toPlainText()).contains(flat(second)));
  QTRY_COMPARE(current().current_leaf, second_msg.id);
}

void ChatTest::editAndResendMakesASiblingQuestion() {
  QSignalSpy done(chat_, &ChatView::answerCompleted);
  const auto before = current();
  const auto path = rmm::store::current_path(before);
  const auto question = path[path.size() - 2];
  QCOMPARE(QString::fromStdString(question.role), QStringLiteral("user"));
  // Edit puts the question in the message box; Send makes the edited one its sibling.
  emit transcript()->anchorClicked(QUrl(QStringLiteral("rmm:edit/%1").arg(question.id)));
  auto* input = window_->findChild<QPlainTextEdit*>(QStringLiteral("messageEdit"));
  QCOMPARE(input->toPlainText(), QString::fromStdString(question.content));
  QVERIFY(window_->findChild<QLabel*>(QStringLiteral("editingNote"))->isVisible());
  input->clear();
  type_and_send(QStringLiteral("The little dog"));
  const QString answer = wait_answer(done);
  QVERIFY(!answer.isEmpty());

  const auto after = current();
  const auto now = rmm::store::current_path(after);
  QCOMPARE(now.size(), path.size());
  const auto edited = now[now.size() - 2];
  QCOMPARE(QString::fromStdString(edited.content), QStringLiteral("The little dog"));
  QCOMPARE(edited.parent_id, question.parent_id);
  QVERIFY(edited.id != question.id);
  QCOMPARE(QString::fromStdString(now.back().content), answer);
  QCOMPARE(chat_->siblings(edited.id).size(), size_t(2));
  QVERIFY(!window_->findChild<QLabel*>(QStringLiteral("editingNote"))->isVisible());
  // The original question is still there, with its answers.
  emit transcript()->anchorClicked(QUrl(QStringLiteral("rmm:prev/%1").arg(edited.id)));
  QVERIFY(flat(transcript()->toPlainText()).contains(QString::fromStdString(question.content)));
  QTRY_VERIFY(current().current_leaf != after.current_leaf);
  emit transcript()->anchorClicked(QUrl(QStringLiteral("rmm:next/%1").arg(question.id)));
  QTRY_COMPARE(current().current_leaf, after.current_leaf);
}

void ChatTest::parametersReachTheEngine() {
  QSignalSpy done(chat_, &ChatView::answerCompleted);
  chat_->newChat();
  QVERIFY(chat_->conversationId().isEmpty());
  window_->findChild<QDoubleSpinBox*>(QStringLiteral("temperature"))->setValue(1.0);
  window_->findChild<QSpinBox*>(QStringLiteral("seed"))->setValue(1234);
  type_and_send(QStringLiteral("Once upon a time"));
  const QString a = wait_answer(done, 1);
  // The same seed and settings: the same answer, token for token.
  chat_->regenerate();
  const QString b = wait_answer(done, 2);
  QCOMPARE(b, a);
  auto c = current();
  const auto leaf = *message(c, c.current_leaf);
  QCOMPARE(chat_->siblings(leaf.id).size(), size_t(2));
  const int plain_prompt = leaf.prompt_tokens;
  QVERIFY(plain_prompt > 0);

  // Max tokens bounds the answer.
  chat_->setMaxTokens(5);
  chat_->regenerate();
  wait_answer(done, 3);
  QCOMPARE(done.at(2).at(2).toString(), QStringLiteral("length"));
  c = current();
  const auto short_answer = *message(c, c.current_leaf);
  QCOMPARE(short_answer.completion_tokens, 5);
  QCOMPARE(int(nlohmann::json::parse(short_answer.logprobs_json).size()), 5);

  // The system prompt goes before the conversation: the prompt grows by it.
  window_->findChild<QPlainTextEdit*>(QStringLiteral("systemPrompt"))
      ->setPlainText(QStringLiteral("You tell short stories about cats."));
  chat_->regenerate();
  wait_answer(done, 4);
  c = current();
  const auto with_system = *message(c, c.current_leaf);
  qInfo("prompt tokens: %d without the system prompt, %d with it", plain_prompt, with_system.prompt_tokens);
  QVERIFY(with_system.prompt_tokens > plain_prompt + 5);
  // It is not stored as a message (as in the web UI): the branch is still question, answer.
  QCOMPARE(rmm::store::current_path(c).size(), size_t(2));

  window_->findChild<QPlainTextEdit*>(QStringLiteral("systemPrompt"))->clear();
  window_->findChild<QSpinBox*>(QStringLiteral("seed"))->setValue(-1);
  window_->findChild<QDoubleSpinBox*>(QStringLiteral("temperature"))->setValue(0.8);
  chat_->setMaxTokens(48);
  window_->findChild<QToolButton*>(QStringLiteral("paramsButton"))->setChecked(true);
  QVERIFY(fx_.screenshots(QStringLiteral("chat-parameters")));
  window_->findChild<QToolButton*>(QStringLiteral("paramsButton"))->setChecked(false);
}

void ChatTest::keyboard() {
  QSignalSpy done(chat_, &ChatView::answerCompleted);
  auto* input = window_->findChild<QPlainTextEdit*>(QStringLiteral("messageEdit"));
  const QString id = chat_->conversationId();
  QVERIFY(!id.isEmpty());
  const auto before = current();
  // Ctrl+R regenerates the last answer.
  input->setFocus();
  QTest::keyClick(input, Qt::Key_R, Qt::ControlModifier);
  wait_answer(done, 1);
  QCOMPARE(current().messages.size(), before.messages.size() + 1);
  // Ctrl+Enter sends; Esc stops.
  chat_->setMaxTokens(-1);
  QTest::keyClicks(input, QStringLiteral("A long story"));
  QTest::keyClick(input, Qt::Key_Return, Qt::ControlModifier);
  QVERIFY(backend_->busy());
  QTest::keyClick(input, Qt::Key_Escape);
  wait_answer(done, 2);
  QVERIFY(!backend_->busy());
  chat_->setMaxTokens(48);
  // Ctrl+F: the conversation search.
  QTest::keyClick(input, Qt::Key_F, Qt::ControlModifier);
  QVERIFY(window_->findChild<QLineEdit*>(QStringLiteral("conversationSearch"))->hasFocus());
  // Ctrl+N: a new chat.
  QTest::keyClick(window_->findChild<QLineEdit*>(QStringLiteral("conversationSearch")), Qt::Key_N,
                  Qt::ControlModifier);
  QVERIFY(chat_->conversationId().isEmpty());
  QVERIFY(transcript()->toPlainText().isEmpty());
  // Opening it again from the list shows it as stored.
  QSignalSpy opened(chat_, &ChatView::conversationOpened);
  chat_->openConversation(id);
  QTRY_COMPARE(opened.count(), 1);
  QCOMPARE(chat_->conversationId(), id);
  QCOMPARE(chat_->currentPath().back().id, current().current_leaf);
}

void ChatTest::tokenViewShowsTheEventsAndForks() {
  QSignalSpy done(chat_, &ChatView::answerCompleted);
  QSignalSpy tokens(backend_, &Backend::tokensArrived);
  TokenView& view = chat_->tokens();
  chat_->showTokens(true);
  // The view follows the answer as it streams.
  int seen_streaming = 0;
  auto watch = connect(backend_, &Backend::tokensArrived, this, [&] {
    if (view.message() == 0) seen_streaming = std::max(seen_streaming, int(view.events().size()));
  });
  chat_->newChat();
  type_and_send(QStringLiteral("Lily went to the park"));
  wait_answer(done, 1);
  disconnect(watch);
  QVERIFY(seen_streaming > 0);
  const auto c = current();
  const auto answer = *message(c, c.current_leaf);
  QCOMPARE(view.message(), answer.id);
  // Every token, as the engine sent it: its probability and alternatives in the tooltip.
  const auto streamed = events_of(tokens);
  QCOMPARE(view.events().size(), streamed.size());
  int fork_at = -1, fork_alt = -1;
  for (int i = 0; i < int(streamed.size()); ++i) {
    const auto& ev = streamed[size_t(i)];
    const QString tip = view.toolTipAt(i);
    QVERIFY2(tip.contains(QStringLiteral("p = ") + percent(ev.logprob)), qPrintable(tip));
    QCOMPARE(int(ev.top.size()), 5);
    for (size_t k = 0; k < ev.top.size(); ++k) {
      QVERIFY2(tip.contains(percent(ev.top[k].logprob)), qPrintable(tip));
      if (fork_at < 0 && i >= 2 && ev.top[k].token != ev.token && !ev.top[k].text.empty() &&
          ev.top[k].text.find_first_not_of(' ') != std::string::npos) {
        fork_at = i;
        fork_alt = int(k);
      }
    }
  }
  QVERIFY(fork_at >= 0);
  // Colours: a less likely token is darker; on the entropy layer a wider distribution is.
  auto lightness = [&](int i) { return view.backgroundAt(i).lightnessF(); };
  auto ev = [&](int i) { return streamed[size_t(i)]; };
  int lo = 0, hi = 0;
  for (int i = 0; i < int(streamed.size()); ++i) {
    if (ev(i).logprob < ev(lo).logprob) lo = i;
    if (ev(i).logprob > ev(hi).logprob) hi = i;
  }
  QVERIFY(lightness(lo) < lightness(hi));
  view.setLayer(TokenLayer::Entropy);
  lo = hi = 0;
  for (int i = 0; i < int(streamed.size()); ++i) {
    if (ev(i).entropy < ev(lo).entropy) lo = i;
    if (ev(i).entropy > ev(hi).entropy) hi = i;
  }
  QVERIFY(lightness(hi) < lightness(lo) || ev(hi).entropy >= 4.0f);
  view.setLayer(TokenLayer::Probability);

  // Fork: pick the token, pick the alternative, Fork.
  emit view.findChild<QTextBrowser*>(QStringLiteral("tokenText"))
      ->anchorClicked(QUrl(QStringLiteral("tok:%1").arg(fork_at)));
  QCOMPARE(view.selectedToken(), fork_at);
  auto* alts = view.findChild<QListWidget*>(QStringLiteral("tokenAlternatives"));
  QCOMPARE(alts->count(), 5);
  alts->setCurrentRow(fork_alt);
  QVERIFY(fx_.screenshots(QStringLiteral("chat-tokens")));
  auto* fork = view.findChild<QPushButton*>(QStringLiteral("forkButton"));
  QVERIFY(fork->isEnabled());
  QTest::mouseClick(fork, Qt::LeftButton);
  const QString forked = wait_answer(done, 2);

  // Through the store: a sibling answer that starts with the tokens before, then the alternative.
  const auto after = current();
  const auto f = *message(after, after.current_leaf);
  QCOMPARE(f.fork_of, answer.id);
  QCOMPARE(f.fork_at, fork_at);
  QCOMPARE(f.parent_id, answer.parent_id);
  std::string prefix;
  for (int i = 0; i < fork_at; ++i) prefix += ev(i).text;
  prefix += ev(fork_at).top[size_t(fork_alt)].text;
  qInfo("fork at token %d with \"%s\": \"%s\"", fork_at, ev(fork_at).top[size_t(fork_alt)].text.c_str(),
        f.content.c_str());
  QVERIFY2(f.content.rfind(prefix, 0) == 0, f.content.c_str());
  QCOMPARE(QString::fromStdString(f.content), forked);
  QVERIFY(f.content.size() > prefix.size());  // and the model went on from there
  // Its events: the source's up to the fork, the alternative, then its own.
  const auto events = nlohmann::json::parse(f.logprobs_json);
  QVERIFY(int(events.size()) > fork_at + 1);
  for (int i = 0; i < fork_at; ++i) QCOMPARE(events[size_t(i)]["token_id"].get<int>(), int(ev(i).token));
  QCOMPARE(events[size_t(fork_at)]["token_id"].get<int>(), int(ev(fork_at).top[size_t(fork_alt)].token));
  QCOMPARE(view.message(), f.id);
  QVERIFY(transcript()->toPlainText().contains(QStringLiteral("forked at token %1").arg(fork_at + 1)));
  fork_conversation_ = chat_->conversationId();
  chat_->showTokens(false);
}

void ChatTest::conversationListSearchRenameDeleteExport() {
  ConversationList& list = chat_->conversations();
  QSignalSpy listed(&list, &ConversationList::listed);
  list.refresh();
  QTRY_VERIFY(listed.count() >= 1);
  const QStringList all = list.ids();
  QVERIFY(all.size() >= 3);

  // Rename (the button asks for the title), then find it by a word of its new title.
  const QString id = fork_conversation_;
  auto* items = window_->findChild<QListWidget*>(QStringLiteral("conversationList"));
  auto select = [&](const QString& want) {
    for (int i = 0; i < items->count(); ++i) {
      if (items->item(i)->data(Qt::UserRole).toString() == want) items->setCurrentRow(i);
    }
  };
  select(id);
  QSignalSpy renamed(&list, &ConversationList::renamed);
  QTimer::singleShot(50, [] {
    auto* dialog = qobject_cast<QInputDialog*>(QApplication::activeModalWidget());
    if (!dialog) return;
    dialog->setTextValue(QStringLiteral("Zebra stories"));
    dialog->accept();
  });
  QTest::mouseClick(window_->findChild<QPushButton*>(QStringLiteral("renameConversation")), Qt::LeftButton);
  QTRY_COMPARE(renamed.count(), 1);
  QCOMPARE(QString::fromStdString(stored(fx_.database(), id)->title), QStringLiteral("Zebra stories"));
  listed.clear();
  list.setSearch(QStringLiteral("zebra"));
  QTRY_VERIFY(listed.count() >= 1 && list.ids() == QStringList{id});
  // A word of a message (the edited question) finds that conversation.
  listed.clear();
  list.setSearch(QStringLiteral("little dog"));
  QTRY_VERIFY(listed.count() >= 1 && list.ids().size() == 1 && list.ids().front() != id);
  const QString dog = list.ids().front();
  auto* empty = list.findChild<QLabel*>(QStringLiteral("conversationsEmpty"));
  QVERIFY(empty && empty->isHidden());
  // Nothing found is said so.
  listed.clear();
  list.setSearch(QStringLiteral("qwxzj"));
  QTRY_VERIFY(listed.count() >= 1 && list.ids().isEmpty());
  QVERIFY(empty->isVisible());
  QVERIFY2(empty->text().contains(QStringLiteral("qwxzj")), qPrintable(empty->text()));
  listed.clear();
  list.setSearch(QString());
  QTRY_VERIFY(listed.count() >= 1 && list.ids().size() == all.size());
  QVERIFY(empty->isHidden());
  QVERIFY(fx_.screenshots(QStringLiteral("chat-conversations")));

  // Export: Markdown (the branch in view) and JSON (every branch), read back from the files.
  QTemporaryDir dir;
  QSignalSpy exported(&list, &ConversationList::exported);
  list.exportConversation(id, dir.filePath(QStringLiteral("chat.md")));
  list.exportConversation(id, dir.filePath(QStringLiteral("chat.json")));
  QTRY_COMPARE(exported.count(), 2);
  const auto c = *stored(fx_.database(), id);
  QFile md(dir.filePath(QStringLiteral("chat.md")));
  QVERIFY(md.open(QIODevice::ReadOnly));
  const QString text = QString::fromUtf8(md.readAll());
  QVERIFY(text.startsWith(QStringLiteral("# Zebra stories\n")));
  for (const auto& m : rmm::store::current_path(c)) QVERIFY(text.contains(QString::fromStdString(m.content)));
  QFile js(dir.filePath(QStringLiteral("chat.json")));
  QVERIFY(js.open(QIODevice::ReadOnly));
  const auto j = nlohmann::json::parse(js.readAll().toStdString());
  QCOMPARE(j["id"].get<std::string>(), c.id);
  QCOMPARE(j["messages"].size(), c.messages.size());
  QCOMPARE(j["current_leaf"].get<int64_t>(), c.current_leaf);
  int forks = 0;
  for (const auto& m : j["messages"]) forks += m["fork"].is_object() ? 1 : 0;
  QCOMPARE(forks, 1);

  // Delete asks first: Cancel keeps it, Delete removes it.
  auto answer_box = [](const QString& button) {
    QTimer::singleShot(50, [button] {
      auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
      if (!box) return;
      for (auto* b : box->buttons()) {
        if (b->text() == button) b->click();
      }
    });
  };
  select(dog);
  auto* del = window_->findChild<QPushButton*>(QStringLiteral("deleteConversation"));
  answer_box(QStringLiteral("Cancel"));
  QTest::mouseClick(del, Qt::LeftButton);
  QTest::qWait(100);
  QVERIFY(stored(fx_.database(), dog).has_value());
  QSignalSpy deleted(&list, &ConversationList::deleted);
  select(dog);
  answer_box(QStringLiteral("Delete"));
  QTest::mouseClick(del, Qt::LeftButton);
  QTRY_COMPARE(deleted.count(), 1);
  QVERIFY(!stored(fx_.database(), dog).has_value());
  QTRY_VERIFY(!list.ids().contains(dog));
}

// `rmm serve` on the same RMM_HOME shows the app's conversation as the app stored it (branches,
// fork, current leaf); one the web UI made through the API opens in the app and goes on there.
void ChatTest::serveReadsWhatTheAppStored() {
  std::unique_ptr<rmm::test::ServerProcess> server;
  try {
    server = std::make_unique<rmm::test::ServerProcess>(std::vector<std::string>{"--port", "0"});
  } catch (const std::exception& e) {
    QFAIL(e.what());
  }
  const int port = server->port();
  const auto mine = *stored(fx_.database(), fork_conversation_);
  const auto r = rmm::test::http_get(port, "/api/chat/history/" + mine.id);
  QCOMPARE(r.status, 200);
  const auto j = r.json();
  QCOMPARE(j["current_leaf"].get<int64_t>(), chat_->conversation().current_leaf);
  QCOMPARE(j["messages"].size(), chat_->conversation().messages.size());
  for (const auto& m : j["messages"]) {
    const auto* app = message(chat_->conversation(), m["id"].get<int64_t>());
    QVERIFY(app);
    QCOMPARE(m["content"].get<std::string>(), app->content);
    QCOMPARE(m["parent_id"].is_null() ? int64_t(0) : m["parent_id"].get<int64_t>(), app->parent_id);
    if (app->fork_of) {
      QCOMPARE(m["fork"]["of"].get<int64_t>(), app->fork_of);
      QCOMPARE(m["fork"]["at"].get<int>(), app->fork_at);
      QCOMPARE(m["logprobs"].size(), nlohmann::json::parse(app->logprobs_json).size());
    } else {
      QVERIFY(m["fork"].is_null());
    }
  }

  // A conversation made through the API (as the web UI makes one), with Markdown and code.
  const std::string code = "def hello():\n    print(\"hi\")";
  const nlohmann::json body = {
      {"title", "Markdown sample"},
      {"model", model_name_.toStdString()},
      {"messages",
       {{{"role", "user"}, {"content", "Show me some Python"}},
        {{"role", "assistant"},
         {"model", model_name_.toStdString()},
         {"content", "Here is **bold** text, a list:\n\n- one\n- two\n\n```python\n" + code +
                         "\n```\n\nand `inline code`."}}}}};
  const auto created = rmm::test::http_post_json(port, "/api/chat/history", body);
  QCOMPARE(created.status, 201);
  const QString web_id = QString::fromStdString(created.json()["id"].get<std::string>());
  QSignalSpy listed(&chat_->conversations(), &ConversationList::listed);
  chat_->conversations().refresh();
  QTRY_VERIFY(chat_->conversations().ids().contains(web_id));
  QSignalSpy opened(chat_, &ChatView::conversationOpened);
  chat_->openConversation(web_id);
  QTRY_COMPARE(opened.count(), 1);
  const QString shown = transcript()->toPlainText();
  QVERIFY(shown.contains(QStringLiteral("Here is bold text")));  // Markdown, not its markup
  QVERIFY(!shown.contains(QStringLiteral("```")));
  QVERIFY(shown.contains(QStringLiteral("print(\"hi\")")));
  // The code block's Copy link copies exactly the code.
  emit transcript()->anchorClicked(QUrl(QStringLiteral("rmm:copy/0")));
  QCOMPARE(QApplication::clipboard()->text(), QString::fromStdString(code));
  QVERIFY(fx_.screenshots(QStringLiteral("chat")));

  // It goes on in the app, and `rmm serve` sees the new turn.
  QSignalSpy done(chat_, &ChatView::answerCompleted);
  type_and_send(QStringLiteral("Once upon a time"));
  const QString answer = wait_answer(done);
  QCOMPARE(done.at(0).at(1).toString(), web_id);
  const auto after = rmm::test::http_get(port, "/api/chat/history/" + web_id.toStdString()).json();
  QCOMPARE(after["messages"].size(), size_t(4));
  QCOMPARE(after["messages"][3]["content"].get<std::string>(), answer.toStdString());
  QCOMPARE(after["messages"][3]["parent_id"].get<int64_t>(), after["messages"][2]["id"].get<int64_t>());
  QCOMPARE(after["current_leaf"].get<int64_t>(), after["messages"][3]["id"].get<int64_t>());
  server->stop(SIGTERM, std::chrono::seconds(10));
}

// An answer is a model's text: raw HTML shows as text, and only web and mail
// links stay links (not file:, nor the app's own rmm: actions).
void ChatTest::modelMarkupStaysText() {
  QTextDocument doc;
  QTextCursor at(&doc);
  QStringList codes;
  insert_markdown(at,
                  QStringLiteral("<img src=\"/etc/hostname\"> <b>bold?</b>\n\n"
                                 "[a](file:///etc/passwd) [b](rmm:regen/1) [c](https://example.com/x) "
                                 "[d](mailto:x@example.com) [e](javascript:alert(1))"),
                  window_->palette(), codes);
  const QString text = doc.toPlainText();
  QVERIFY2(text.contains(QStringLiteral("<img src=\"/etc/hostname\">")), qPrintable(text));
  QVERIFY2(text.contains(QStringLiteral("<b>bold?</b>")), qPrintable(text));
  QVERIFY(!doc.toHtml().contains(QStringLiteral("<img")));
  QStringList hrefs;
  for (QTextBlock b = doc.begin(); b.isValid(); b = b.next()) {
    for (auto it = b.begin(); !it.atEnd(); ++it) {
      if (it.fragment().charFormat().isAnchor()) hrefs << it.fragment().charFormat().anchorHref();
    }
  }
  QCOMPARE(hrefs,
           QStringList({QStringLiteral("https://example.com/x"), QStringLiteral("mailto:x@example.com")}));
  QVERIFY(text.contains(QStringLiteral("a b c d e")));
}

QTEST_MAIN(ChatTest)
#include "test_chat.moc"
