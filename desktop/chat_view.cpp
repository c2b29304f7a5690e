#include "chat_view.hpp"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QShortcut>
#include <QTextBlockFormat>
#include <QTextBrowser>
#include <QTextCharFormat>
#include <QTextCursor>
#include <QVBoxLayout>

#include "backend.hpp"

namespace rmm::desktop {

ChatView::ChatView(Backend& backend, QWidget* parent)
    : QWidget(parent),
      backend_(backend),
      models_(new QComboBox),
      transcript_(new QTextBrowser),
      input_(new QPlainTextEdit),
      send_(new QPushButton(tr("Send"))),
      stop_(new QPushButton(tr("Stop"))),
      new_(new QPushButton(tr("New chat"))),
      status_(new QLabel) {
  models_->setObjectName(QStringLiteral("modelCombo"));
  models_->setMinimumContentsLength(28);
  models_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  models_->setPlaceholderText(tr("No chat model found"));
  new_->setObjectName(QStringLiteral("newChatButton"));
  auto* model_label = new QLabel(tr("Model"));
  model_label->setBuddy(models_);

  auto* top = new QHBoxLayout;
  top->setSpacing(8);
  top->addWidget(model_label);
  top->addWidget(models_);
  top->addStretch(1);
  top->addWidget(new_);

  transcript_->setObjectName(QStringLiteral("transcript"));
  transcript_->setOpenExternalLinks(true);
  transcript_->document()->setDocumentMargin(16);
  transcript_->setPlaceholderText(tr("Pick a model and type a message below."));

  input_->setObjectName(QStringLiteral("messageEdit"));
  input_->setPlaceholderText(tr("Message (Ctrl+Enter to send)"));
  input_->setTabChangesFocus(true);
  input_->setFixedHeight(input_->fontMetrics().lineSpacing() * 4 + 16);
  send_->setObjectName(QStringLiteral("sendButton"));
  send_->setDefault(true);
  stop_->setObjectName(QStringLiteral("stopButton"));
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

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(20, 16, 20, 12);
  layout->setSpacing(10);
  layout->addLayout(top);
  layout->addWidget(transcript_, 1);
  layout->addLayout(bottom);
  layout->addWidget(status_);

  connect(send_, &QPushButton::clicked, this, &ChatView::send);
  connect(stop_, &QPushButton::clicked, &backend_, &Backend::stop);
  connect(new_, &QPushButton::clicked, this, &ChatView::new_chat);
  auto* shortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), input_);
  shortcut->setContext(Qt::WidgetShortcut);
  connect(shortcut, &QShortcut::activated, this, &ChatView::send);

  connect(&backend_, &Backend::modelsListed, this, &ChatView::show_models);
  connect(&backend_, &Backend::busyChanged, this, &ChatView::set_busy);
  connect(&backend_, &Backend::status, status_, &QLabel::setText);
  connect(&backend_, &Backend::answerStarted, this, [this](const QString& model) {
    answer_.clear();
    append_block(model, QString());
  });
  connect(&backend_, &Backend::tokenArrived, this, [this](const QString& text) {
    answer_ += text;
    append_text(text);
  });
  connect(&backend_, &Backend::answerFinished, this,
          [this](const QString& text, const QString& id, const QString& reason) {
            answer_ = text;
            if (reason == QLatin1String("cancelled")) append_text(tr(" [stopped]"));
            emit answerCompleted(text, id, reason);
          });
  connect(&backend_, &Backend::failed, this,
          [this](const QString& message) { status_->setText(tr("Error: %1").arg(message)); });
}

bool ChatView::selectModel(const QString& name) {
  const int i = models_->findText(name);
  if (i < 0) return false;
  models_->setCurrentIndex(i);
  return true;
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
  send_->setEnabled(!backend_.busy() && !chat_models_.isEmpty());
}

void ChatView::send() {
  const QString text = input_->toPlainText().trimmed();
  const int i = models_->currentIndex();
  if (text.isEmpty() || i < 0 || i >= chat_models_.size() || backend_.busy()) return;
  append_block(tr("You"), text);
  input_->clear();
  backend_.send(chat_models_[i], text, max_tokens_);
}

void ChatView::new_chat() {
  backend_.newConversation();
  transcript_->clear();
  entries_.clear();
  answer_.clear();
  status_->clear();
}

void ChatView::append_block(const QString& author, const QString& text) {
  entries_.push_back({author, text});
  write_block(entries_.back());
  transcript_->verticalScrollBar()->setValue(transcript_->verticalScrollBar()->maximum());
}

void ChatView::append_text(const QString& text) {
  if (entries_.isEmpty()) return;
  entries_.back().text += text;
  QScrollBar* bar = transcript_->verticalScrollBar();
  const bool at_end = bar->value() >= bar->maximum() - 4;
  QTextCursor c(transcript_->document());
  c.movePosition(QTextCursor::End);
  c.insertText(text, QTextCharFormat());
  if (at_end) bar->setValue(bar->maximum());
}

// A message: its author on a line of its own (in the link colour), then its text.
void ChatView::write_block(const Entry& e) {
  QTextDocument* doc = transcript_->document();
  QTextCursor c(doc);
  c.movePosition(QTextCursor::End);
  QTextBlockFormat head;
  head.setTopMargin(doc->isEmpty() ? 0 : 14);
  head.setBottomMargin(2);
  QTextCharFormat name;
  name.setFontWeight(QFont::Bold);
  name.setForeground(palette().brush(QPalette::Link));
  if (doc->isEmpty()) {
    c.setBlockFormat(head);
  } else {
    c.insertBlock(head);
  }
  c.insertText(e.author, name);
  c.insertBlock(QTextBlockFormat(), QTextCharFormat());
  c.insertText(e.text, QTextCharFormat());
}

void ChatView::rerender() {
  const int scroll = transcript_->verticalScrollBar()->value();
  transcript_->clear();
  for (const auto& e : entries_) write_block(e);
  transcript_->verticalScrollBar()->setValue(scroll);
}

void ChatView::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange) rerender();
  QWidget::changeEvent(event);
}

void ChatView::set_busy(bool busy) {
  send_->setEnabled(!busy && !chat_models_.isEmpty());
  stop_->setEnabled(busy);
  models_->setEnabled(!busy);
}

}  // namespace rmm::desktop
