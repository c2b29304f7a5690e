#include "chat_view.hpp"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDesktopServices>
#include <QEvent>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSettings>
#include <QShortcut>
#include <QSplitter>
#include <QTextBlockFormat>
#include <QTextBrowser>
#include <QTextCharFormat>
#include <QTextCursor>
#include <QTimer>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>
#include <algorithm>
#include <map>

#include "backend.hpp"
#include "chat_params_panel.hpp"
#include "conversation_list.hpp"
#include "markdown_render.hpp"
#include "plain_label.hpp"
#include "token_events.hpp"
#include "token_view.hpp"

namespace rmm::desktop {

ChatView::ChatView(Backend& backend, QWidget* parent)
    : QWidget(parent),
      backend_(backend),
      split_(new QSplitter(Qt::Horizontal)),
      list_(new ConversationList(backend)),
      tokens_(new TokenView),
      models_(new QComboBox),
      params_button_(new QToolButton),
      tokens_button_(new QToolButton),
      params_box_(new ChatParamsPanel),
      transcript_(new QTextBrowser),
      editing_(plain_label()),
      input_(new QPlainTextEdit),
      send_(new QPushButton(tr("Send"))),
      stop_(new QPushButton(tr("Stop"))),
      new_(new QPushButton(tr("New chat"))),
      status_(plain_label()),
      markdown_timer_(new QTimer(this)) {
  models_->setObjectName(QStringLiteral("modelCombo"));
  models_->setMinimumContentsLength(14);
  models_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  models_->setPlaceholderText(tr("No chat model found"));
  new_->setObjectName(QStringLiteral("newChatButton"));
  new_->setToolTip(tr("Ctrl+N"));
  params_button_->setObjectName(QStringLiteral("paramsButton"));
  params_button_->setText(tr("Parameters"));
  params_button_->setCheckable(true);
  params_button_->setToolButtonStyle(Qt::ToolButtonTextOnly);
  tokens_button_->setObjectName(QStringLiteral("tokensButton"));
  tokens_button_->setText(tr("Tokens"));
  tokens_button_->setCheckable(true);
  tokens_button_->setToolTip(
      tr("Each token of an answer coloured by its probability, with its alternatives"));
  auto* model_label = new QLabel(tr("Model"));
  model_label->setBuddy(models_);

  auto* top = new QHBoxLayout;
  top->setSpacing(8);
  top->addWidget(model_label);
  top->addWidget(models_);
  top->addWidget(params_button_);
  top->addWidget(tokens_button_);
  top->addStretch(1);

  params_box_->setVisible(false);

  transcript_->setObjectName(QStringLiteral("transcript"));
  transcript_->setOpenLinks(false);
  transcript_->document()->setDocumentMargin(16);
  transcript_->setPlaceholderText(tr("Pick a model and type a message below."));

  editing_->setObjectName(QStringLiteral("editingNote"));
  editing_->setText(tr("Editing a message: Send makes it a new branch; Esc cancels."));
  editing_->setForegroundRole(QPalette::Link);
  editing_->setVisible(false);
  input_->setObjectName(QStringLiteral("messageEdit"));
  input_->setPlaceholderText(tr("Message (Ctrl+Enter to send)"));
  input_->setTabChangesFocus(true);
  input_->setFixedHeight(input_->fontMetrics().lineSpacing() * 4 + 16);
  send_->setObjectName(QStringLiteral("sendButton"));
  send_->setDefault(true);
  stop_->setObjectName(QStringLiteral("stopButton"));
  stop_->setToolTip(tr("Esc"));
  stop_->setEnabled(false);
  auto* buttons = new QVBoxLayout;
  buttons->setSpacing(6);
  buttons->addWidget(send_);
  buttons->addWidget(stop_);
  buttons->addStretch(1);
  auto* bottom = new QHBoxLayout;
  bottom->setSpacing(8);
  bottom->addWidget(input_, 1);
  bottom->addLayout(buttons);

  status_->setObjectName(QStringLiteral("chatStatus"));
  status_->setForegroundRole(QPalette::PlaceholderText);

  auto* center = new QWidget;
  auto* layout = new QVBoxLayout(center);
  layout->setContentsMargins(12, 16, 12, 12);
  layout->setSpacing(10);
  layout->addLayout(top);
  layout->addWidget(params_box_);
  layout->addWidget(transcript_, 1);
  layout->addWidget(editing_);
  layout->addLayout(bottom);
  layout->addWidget(status_);

  split_->setObjectName(QStringLiteral("chatSplitter"));
  split_->setChildrenCollapsible(false);
  list_->addHeader(new_);
  split_->addWidget(list_);
  split_->addWidget(center);
  split_->addWidget(tokens_);
  split_->setStretchFactor(0, 0);
  split_->setStretchFactor(1, 1);
  split_->setStretchFactor(2, 0);
  list_->setMinimumWidth(210);
  tokens_->setMinimumWidth(240);
  split_->setSizes({220, 600, 300});
  tokens_->setVisible(false);
  auto* outer = new QHBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  outer->addWidget(split_);

  // Markdown while streaming: drawn again now and then, not per token, so that tokens stay cheap.
  markdown_timer_->setSingleShot(true);
  markdown_timer_->setInterval(250);
  connect(markdown_timer_, &QTimer::timeout, this, &ChatView::render_stream);

  connect(send_, &QPushButton::clicked, this, &ChatView::send);
  connect(stop_, &QPushButton::clicked, &backend_, &Backend::stop);
  connect(new_, &QPushButton::clicked, this, &ChatView::newChat);
  connect(params_button_, &QToolButton::toggled, params_box_, &QWidget::setVisible);
  connect(tokens_button_, &QToolButton::toggled, this, &ChatView::showTokens);
  connect(transcript_, &QTextBrowser::anchorClicked, this, &ChatView::on_link);
  connect(list_, &ConversationList::opened, this, &ChatView::openConversation);
  connect(list_, &ConversationList::deleted, this, [this](const QString& id) {
    if (id == conversationId()) newChat();
  });
  connect(list_, &ConversationList::renamed, this, [this](const QString& id, const QString& title) {
    if (id == conversationId()) conv_.title = title.toStdString();
  });
  connect(tokens_, &TokenView::forkRequested, this, &ChatView::forkAt);

  // Keys: Ctrl+Enter sends (in the message box), Esc stops (or ends an edit), Ctrl+F, Ctrl+R. Ctrl+N
  // (newChat) is the main window's, so that it works from every screen.
  auto* send_key = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), input_);
  send_key->setContext(Qt::WidgetShortcut);
  connect(send_key, &QShortcut::activated, this, &ChatView::send);
  auto key = [this](QKeySequence seq, auto fn) {
    auto* s = new QShortcut(seq, this);
    s->setContext(Qt::WidgetWithChildrenShortcut);
    connect(s, &QShortcut::activated, this, fn);
  };
  key(QKeySequence(Qt::Key_Escape), [this] {
    if (backend_.busy()) {
      backend_.stop();
    } else {
      cancel_edit();
    }
  });
  key(QKeySequence(Qt::CTRL | Qt::Key_F), [this] { list_->focusSearch(); });
  key(QKeySequence(Qt::CTRL | Qt::Key_R), [this] { regenerate(0); });

  connect(&backend_, &Backend::modelsListed, this, &ChatView::show_models);
  connect(models_, &QComboBox::activated, this,
          [this] { QSettings().setValue(QStringLiteral("chat/model"), models_->currentText()); });
  connect(&backend_, &Backend::busyChanged, this, &ChatView::set_busy);
  connect(&backend_, &Backend::status, status_, &QLabel::setText);
  connect(&backend_, &Backend::answerStarted, this, [this](const QString& model, const QString& prefix) {
    if (detached_) return;
    stream_model_ = model;
    stream_text_ = prefix;
    answer_ = prefix;
    render();
  });
  connect(&backend_, &Backend::tokensArrived, this, [this](const TokenBatch& events) {
    if (detached_) return;
    std::string bytes;
    for (const auto& ev : events) bytes += ev.text;
    const QString text = QString::fromStdString(bytes);
    answer_ += text;
    stream_text_ += text;
    append_text(text);
    tokens_->append(events);
    if (!markdown_timer_->isActive()) markdown_timer_->start();
  });
  connect(&backend_, &Backend::conversationStored, this, &ChatView::on_stored);
  connect(&backend_, &Backend::answerFinished, this, &ChatView::on_finished);
  connect(&backend_, &Backend::failed, this, [this](const QString& message) {
    status_->setText(tr("Error: %1").arg(message));
    if (streaming_ && !backend_.busy()) {
      streaming_ = false;
      detached_ = false;
      render();
    }
  });
  list_->refresh();
}

bool ChatView::selectModel(const QString& name) {
  const int i = models_->findText(name);
  if (i < 0) return false;
  models_->setCurrentIndex(i);
  return true;
}

void ChatView::setMaxTokens(int n) { params_box_->setMaxTokens(n); }

void ChatView::setMarkdownInterval(int ms) { markdown_timer_->setInterval(ms); }

QString ChatView::conversationId() const { return QString::fromStdString(conv_.id); }

void ChatView::showTokens(bool on) {
  if (tokens_button_->isChecked() != on) tokens_button_->setChecked(on);
  if (on && !tokens_->isVisible()) {
    // The token view takes its width from the transcript; the list keeps its own.
    QList<int> sizes = split_->sizes();
    const int want = std::max(tokens_->minimumWidth(), 300);
    sizes[1] = std::max(300, sizes[1] - want);
    sizes[2] = want;
    tokens_->setVisible(true);
    split_->setSizes(sizes);
  } else if (!on) {
    tokens_->setVisible(false);
  }
  if (on && tokens_->message() < 0) {
    // The last answer in view, to start with.
    const auto path = currentPath();
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
      if (it->role == "assistant") {
        tokens_->show_answer(it->id, token_events_from_json(it->logprobs_json));
        break;
      }
    }
  }
}

void ChatView::show_models(const ModelList& models) {
  const QString current = models_->currentText();
  chat_models_.clear();
  for (const auto& m : models) {
    if (m.kind == QLatin1String("chat")) chat_models_.push_back(m);
  }
  models_->clear();
  for (const auto& m : chat_models_) models_->addItem(m.name);
  if (!current.isEmpty()) selectModel(current);
  // With a placeholder text the combo box picks nothing by itself: the model
  // used last, else the first.
  if (models_->currentIndex() < 0 && models_->count() > 0) {
    if (!selectModel(QSettings().value(QStringLiteral("chat/model")).toString())) models_->setCurrentIndex(0);
  }
  send_->setEnabled(!backend_.busy() && !chat_models_.isEmpty());
}

ChatParams ChatView::params() const { return params_box_->params(); }

// The model picked, or `preferred` (the one that wrote a forked answer: its token ids are its own).
bool ChatView::fill_model(ChatJob& job, const QString& preferred) {
  int i = models_->currentIndex();
  if (!preferred.isEmpty()) {
    i = -1;
    for (int k = 0; k < chat_models_.size(); ++k) {
      if (chat_models_[k].name == preferred) i = k;
    }
    if (i < 0) {
      status_->setText(tr("The model %1 is not in the library").arg(preferred));
      return false;
    }
  }
  if (i < 0 || i >= chat_models_.size()) return false;
  job.model_path = chat_models_[i].path.toStdString();
  job.model_name = chat_models_[i].name.toStdString();
  return true;
}

void ChatView::send() {
  const QString text = input_->toPlainText().trimmed();
  if (text.isEmpty() || backend_.busy()) return;
  ChatJob job;
  if (!fill_model(job, QString())) return;
  job.conversation_id = conv_.id;
  job.question = text.toStdString();
  if (edit_target_ != 0 && find(edit_target_)) {
    // An edited question goes beside the original: under the same parent.
    job.parent = find(edit_target_)->parent_id;
  } else {
    job.parent = leaf_;
  }
  job.history = turns_of(path_to(job.parent));
  cancel_edit();
  input_->clear();
  start(std::move(job));
}

void ChatView::editAndResend(qint64 user, const QString& text) {
  begin_edit(user);
  input_->setPlainText(text);
  send();
}

void ChatView::regenerate(qint64 assistant) {
  if (backend_.busy()) return;
  if (assistant == 0) {
    const auto path = currentPath();
    for (auto it = path.rbegin(); it != path.rend() && assistant == 0; ++it) {
      if (it->role == "assistant") assistant = it->id;
    }
  }
  const auto* m = find(assistant);
  if (!m || m->role != "assistant") return;
  ChatJob job;
  if (!fill_model(job, QString())) return;
  job.conversation_id = conv_.id;
  job.parent = m->parent_id;
  job.history = turns_of(path_to(m->parent_id));
  start(std::move(job));
}

void ChatView::forkAt(qint64 message, int at, int alternative) {
  if (backend_.busy()) return;
  const auto* m = find(message);
  if (!m || m->role != "assistant") return;
  const auto events =
      tokens_->message() == message ? tokens_->events() : token_events_from_json(m->logprobs_json);
  ChatJob job;
  job.prefix = fork_prefix(events, at, alternative);
  if (job.prefix.empty() || !fill_model(job, QString::fromStdString(m->model))) return;
  job.conversation_id = conv_.id;
  job.parent = m->parent_id;
  job.history = turns_of(path_to(m->parent_id));
  job.fork_of = m->id;
  job.fork_at = at;
  start(std::move(job));
}

void ChatView::start(ChatJob job) {
  job.params = params();
  streaming_ = true;
  detached_ = false;
  job_ = job;
  stream_text_.clear();
  stream_model_ = QString::fromStdString(job.model_name);
  answer_.clear();
  tokens_->show_answer(0, job.prefix);
  render();
  backend_.generate(job);
}

void ChatView::on_stored(const store::Conversation& c) {
  if (detached_) {
    list_->refresh();
    return;
  }
  streaming_ = false;
  conv_ = c;
  leaf_ = c.current_leaf;
  render();
  list_->setCurrent(conversationId());
  list_->refresh();
  if (tokens_->message() == 0) {
    const auto* m = find(leaf_);
    if (m && m->role == "assistant") tokens_->adopt(m->id, token_events_from_json(m->logprobs_json));
  }
}

void ChatView::on_finished(const QString& text, const QString& id, const QString& reason) {
  answer_ = text;
  const bool was_detached = detached_;
  detached_ = false;
  if (streaming_ && !was_detached) {
    // Nothing was stored (stopped before the first token): back to the branch as it was.
    streaming_ = false;
    render();
    if (tokens_->message() == 0) tokens_->clear();
  }
  emit answerCompleted(text, id, reason);
}

void ChatView::newChat() {
  if (backend_.busy()) {
    // The answer in progress stops and is kept in its conversation; the view moves on.
    backend_.stop();
    detached_ = true;
  }
  streaming_ = false;
  conv_ = store::Conversation();
  leaf_ = 0;
  cancel_edit();
  answer_.clear();
  status_->clear();
  tokens_->clear();
  list_->setCurrent(QString());
  render();
  input_->setFocus();
}

void ChatView::openConversation(const QString& id) {
  if (id.isEmpty()) return;
  if (backend_.busy()) {
    status_->setText(tr("An answer is streaming: stop it (Esc) to open another conversation"));
    list_->setCurrent(conversationId());
    return;
  }
  backend_.call(
      this, [id = id.toStdString()](AppCore& core) { return core.store().get_conversation(id); },
      [this, id](const std::optional<store::Conversation>& c) {
        if (!c) {
          status_->setText(tr("The conversation is gone"));
          list_->refresh();
          return;
        }
        if (backend_.busy()) return;
        conv_ = *c;
        leaf_ = c->current_leaf;
        cancel_edit();
        tokens_->clear();
        if (tokens_->isVisible()) showTokens(true);
        list_->setCurrent(id);
        render();
        transcript_->verticalScrollBar()->setValue(transcript_->verticalScrollBar()->maximum());
        if (!c->model.empty()) selectModel(QString::fromStdString(c->model));
        emit conversationOpened(id);
      });
}

void ChatView::switchSibling(qint64 id, int delta) {
  if (backend_.busy()) return;
  const auto sibs = siblings(id);
  int at = -1;
  for (int i = 0; i < static_cast<int>(sibs.size()); ++i) {
    if (sibs[static_cast<size_t>(i)].id == id) at = i;
  }
  const int to = at + delta;
  if (at < 0 || to < 0 || to >= static_cast<int>(sibs.size())) return;
  leaf_ = newest_leaf_under(sibs[static_cast<size_t>(to)].id);
  conv_.current_leaf = leaf_;
  render();
  // The store's current leaf follows, so that the web UI and `rmm serve` open the same branch.
  backend_.call(
      this,
      [cid = conv_.id, leaf = leaf_](AppCore& core) { return core.store().set_current_leaf(cid, leaf); },
      [](bool) {});
}

void ChatView::begin_edit(int64_t user) {
  const auto* m = find(user);
  if (!m || m->role != "user") return;
  edit_target_ = user;
  input_->setPlainText(QString::fromStdString(m->content));
  editing_->setVisible(true);
  input_->setFocus();
}

void ChatView::cancel_edit() {
  edit_target_ = 0;
  editing_->setVisible(false);
}

void ChatView::on_link(const QUrl& url) {
  if (url.scheme() != QLatin1String("rmm")) {
    if (is_safe_link(url)) QDesktopServices::openUrl(url);  // the Markdown keeps no other links
    return;
  }
  // rmm:ACTION/ARGUMENT
  const QString path = url.path();
  const int slash = path.indexOf(QLatin1Char('/'));
  const QString action = path.left(slash);
  const qint64 arg = path.mid(slash + 1).toLongLong();
  if (action == QLatin1String("copy")) {
    if (arg >= 0 && arg < codes_.size()) QApplication::clipboard()->setText(codes_[int(arg)]);
    status_->setText(tr("Code copied"));
    return;
  }
  const auto* m = find(arg);
  if (!m) return;
  if (action == QLatin1String("copymsg")) {
    QApplication::clipboard()->setText(QString::fromStdString(m->content));
    status_->setText(tr("Message copied"));
  } else if (action == QLatin1String("prev")) {
    switchSibling(arg, -1);
  } else if (action == QLatin1String("next")) {
    switchSibling(arg, 1);
  } else if (action == QLatin1String("regen")) {
    regenerate(arg);
  } else if (action == QLatin1String("edit")) {
    begin_edit(arg);
  } else if (action == QLatin1String("tokens")) {
    tokens_->show_answer(m->id, token_events_from_json(m->logprobs_json));
    showTokens(true);
  }
}

// ---- the transcript --------------------------------------------------------

const store::ChatMessage* ChatView::find(int64_t id) const {
  if (id == 0) return nullptr;
  const auto it = std::lower_bound(conv_.messages.begin(), conv_.messages.end(), id,
                                   [](const store::ChatMessage& m, int64_t v) { return m.id < v; });
  return it != conv_.messages.end() && it->id == id ? &*it : nullptr;
}

std::vector<store::ChatMessage> ChatView::path_to(int64_t leaf) const { return store::path_to(conv_, leaf); }

std::vector<store::ChatMessage> ChatView::currentPath() const { return path_to(leaf_); }

std::vector<store::ChatMessage> ChatView::siblings(int64_t id) const {
  std::vector<store::ChatMessage> out;
  const auto* m = find(id);
  if (!m) return out;
  for (const auto& o : conv_.messages) {
    if (o.parent_id == m->parent_id && o.role == m->role) out.push_back(o);
  }
  return out;  // by id: the store's order
}

// The newest leaf below `id`, as the web UI picks the branch a sibling opens on.
int64_t ChatView::newest_leaf_under(int64_t id) const {
  std::multimap<int64_t, int64_t> children;
  for (const auto& m : conv_.messages) children.emplace(m.parent_id, m.id);
  int64_t best = id;
  std::vector<int64_t> stack{id};
  while (!stack.empty()) {
    const int64_t cur = stack.back();
    stack.pop_back();
    const auto [lo, hi] = children.equal_range(cur);
    if (lo == hi) best = std::max(best, cur);
    for (auto it = lo; it != hi; ++it) stack.push_back(it->second);
  }
  return best;
}

std::vector<engine::ChatMessage> ChatView::turns_of(const std::vector<store::ChatMessage>& path) {
  std::vector<engine::ChatMessage> out;
  for (const auto& m : path) out.push_back({m.role, m.content});
  return out;
}

void ChatView::write_header(QTextCursor& c, const QString& author, bool first) {
  QTextBlockFormat head;
  head.setTopMargin(first ? 0 : 16);
  head.setBottomMargin(4);
  QTextCharFormat name;
  name.setFontWeight(QFont::Bold);
  name.setForeground(palette().brush(QPalette::Link));
  if (first) {
    c.setBlockFormat(head);
  } else {
    c.insertBlock(head, QTextCharFormat());
  }
  c.insertText(author, name);
}

void ChatView::write_message(QTextCursor& c, const store::ChatMessage& m, bool actions) {
  const bool first = transcript_->document()->isEmpty();
  const bool user = m.role == "user";
  QString author = user ? tr("You") : m.role == "assistant" ? QString::fromStdString(m.model) : QString();
  if (author.isEmpty()) author = m.role == "system" ? tr("System") : QString::fromStdString(m.role);
  write_header(c, author, first);

  QTextCharFormat quiet;
  quiet.setForeground(palette().brush(QPalette::PlaceholderText));
  QTextCharFormat act;
  act.setAnchor(true);
  act.setForeground(palette().brush(QPalette::Link));
  auto add_link = [&](const QString& href, const QString& text) {
    act.setAnchorHref(href);
    c.insertText(QStringLiteral("   "), quiet);
    c.insertText(text, act);
  };
  const auto sibs = siblings(m.id);
  if (sibs.size() > 1) {
    int at = 0;
    for (size_t i = 0; i < sibs.size(); ++i) {
      if (sibs[i].id == m.id) at = static_cast<int>(i);
    }
    // ‹ 2/3 ›: the arrows are links only where there is a sibling that way.
    // Larger arrows: something to hit with the mouse.
    QTextCharFormat arrow_on = act, arrow_off = quiet;
    for (auto* f : {&arrow_on, &arrow_off}) {
      f->setFontWeight(QFont::Bold);
      f->setFontPointSize(font().pointSizeF() * 1.25);
    }
    c.insertText(QStringLiteral("   "), quiet);
    arrow_on.setAnchorHref(QStringLiteral("rmm:prev/%1").arg(m.id));
    c.insertText(QStringLiteral("‹"), at > 0 && actions ? arrow_on : arrow_off);
    c.insertText(QStringLiteral(" %1/%2 ").arg(at + 1).arg(sibs.size()), quiet);
    arrow_on.setAnchorHref(QStringLiteral("rmm:next/%1").arg(m.id));
    c.insertText(QStringLiteral("›"),
                 at + 1 < static_cast<int>(sibs.size()) && actions ? arrow_on : arrow_off);
  }
  if (m.fork_of) c.insertText(tr("   forked at token %1").arg(m.fork_at + 1), quiet);
  if (actions && user) add_link(QStringLiteral("rmm:edit/%1").arg(m.id), tr("Edit"));
  if (actions && m.role == "assistant") {
    add_link(QStringLiteral("rmm:regen/%1").arg(m.id), tr("Regenerate"));
    add_link(QStringLiteral("rmm:tokens/%1").arg(m.id), tr("Tokens"));
    add_link(QStringLiteral("rmm:copymsg/%1").arg(m.id), tr("Copy"));
  }

  c.insertBlock(QTextBlockFormat(), QTextCharFormat());
  const QString text = QString::fromStdString(m.content);
  if (m.role == "assistant") {
    insert_markdown(c, text, palette(), codes_);
  } else {
    c.insertText(text, QTextCharFormat());
  }
}

void ChatView::render() {
  QScrollBar* bar = transcript_->verticalScrollBar();
  const int scroll = bar->value();
  const bool at_end = scroll >= bar->maximum() - 4;
  transcript_->clear();
  codes_.clear();
  QTextCursor c(transcript_->document());
  const bool actions = !streaming_;
  for (const auto& m : path_to(streaming_ ? job_.parent : leaf_)) write_message(c, m, actions);
  if (streaming_) {
    if (job_.question) {
      store::ChatMessage q;
      q.role = "user";
      q.content = *job_.question;
      write_message(c, q, false);
    }
    // The answer streaming: plain text as it comes (Markdown once it is stored).
    write_header(c, stream_model_, transcript_->document()->isEmpty());
    c.insertBlock(QTextBlockFormat(), QTextCharFormat());
    stream_pos_ = c.position();
    stream_codes_ = static_cast<int>(codes_.size());
    c.insertText(stream_text_, QTextCharFormat());
  } else {
    stream_pos_ = -1;
    markdown_timer_->stop();
  }
  bar->setValue(streaming_ || at_end ? bar->maximum() : scroll);
}

void ChatView::append_text(const QString& text) {
  if (!streaming_) return;
  QScrollBar* bar = transcript_->verticalScrollBar();
  const bool at_end = bar->value() >= bar->maximum() - 4;
  QTextCursor c(transcript_->document());
  c.movePosition(QTextCursor::End);
  c.insertText(text, QTextCharFormat());
  if (at_end) bar->setValue(bar->maximum());
}

// The answer streaming so far as Markdown, in place of its text (tokens then go on after it).
void ChatView::render_stream() {
  if (!streaming_ || stream_pos_ < 0) return;
  QScrollBar* bar = transcript_->verticalScrollBar();
  const bool at_end = bar->value() >= bar->maximum() - 4;
  QTextCursor c(transcript_->document());
  c.setPosition(stream_pos_);
  c.movePosition(QTextCursor::End, QTextCursor::KeepAnchor);
  c.removeSelectedText();
  codes_ = codes_.mid(0, stream_codes_);
  insert_markdown(c, stream_text_, palette(), codes_);
  ++markdown_passes_;
  if (at_end) bar->setValue(bar->maximum());
}

void ChatView::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange) render();
  QWidget::changeEvent(event);
}

void ChatView::set_busy(bool busy) {
  send_->setEnabled(!busy && !chat_models_.isEmpty());
  stop_->setEnabled(busy);
  models_->setEnabled(!busy);
  tokens_->setForkEnabled(!busy);
}

}  // namespace rmm::desktop
