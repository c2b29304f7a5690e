#pragma once
// The Chat screen: pick a model, type a message, watch the answer stream in;
// Stop ends it. Each exchange is stored (by the worker) in the chat history
// that `rmm serve` and the web UI show.
#include <QVector>
#include <QWidget>

#include "model_entry.hpp"

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTextBrowser;

namespace rmm::desktop {

class Backend;

class ChatView : public QWidget {
  Q_OBJECT

 public:
  explicit ChatView(Backend& backend, QWidget* parent = nullptr);

  // Picks the model named `name` (a registry short name); false when it is not listed.
  bool selectModel(const QString& name);
  void setMaxTokens(int n) { max_tokens_ = n; }
  const QString& lastAnswer() const { return answer_; }

 signals:
  void answerCompleted(const QString& text, const QString& conversationId, const QString& reason);

 protected:
  void changeEvent(QEvent* event) override;  // re-renders the transcript in the new palette

 private:
  struct Entry {
    QString author;
    QString text;
  };
  void show_models(const ModelList& models);
  void send();
  void new_chat();
  void append_block(const QString& author, const QString& text);
  void append_text(const QString& text);
  void write_block(const Entry& e);  // one message at the end of the document
  void rerender();
  void set_busy(bool busy);

  Backend& backend_;
  QComboBox* models_;
  QTextBrowser* transcript_;
  QPlainTextEdit* input_;
  QPushButton* send_;
  QPushButton* stop_;
  QPushButton* new_;
  QLabel* status_;
  ModelList chat_models_;
  QVector<Entry> entries_;  // the transcript, so that a palette change can draw it again
  QString answer_;          // the answer streaming (or the last one)
  int max_tokens_ = 512;
};

}  // namespace rmm::desktop
