#pragma once
// The Chat screen: the stored conversations on the left (ConversationList),
// the conversation in view in the middle, the token view on the right
// (TokenView, shown on demand). Answers stream in as plain text and are drawn
// as Markdown (Qt's reader, code blocks with a Copy link) once finished.
// A conversation is the tree `rmm serve` and the web UI keep: every message
// has a parent, Regenerate and Edit add siblings, "‹ 2/3 ›" switches branch
// (the store's current leaf follows), a fork from a token's alternative adds
// an answer that starts with the tokens before it. Every answer is written
// by the worker (EngineWorker), which stores it with its token events.
#include <QStringList>
#include <QVector>
#include <QWidget>
#include <vector>

#include "chat_types.hpp"
#include "model_entry.hpp"

class QComboBox;
class QDoubleSpinBox;
class QFrame;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QSplitter;
class QTextBrowser;
class QTextCursor;
class QTimer;
class QToolButton;
class QUrl;

namespace rmm::desktop {

class ChatParamsPanel;

class Backend;
class ConversationList;
class TokenView;

class ChatView : public QWidget {
  Q_OBJECT

 public:
  explicit ChatView(Backend& backend, QWidget* parent = nullptr);

  // Picks the model named `name` (a registry short name); false when it is not listed.
  bool selectModel(const QString& name);
  void setMaxTokens(int n);
  const QString& lastAnswer() const { return answer_; }

  // The conversation in view ("" = a new one) as last read from the store, and its branch in view.
  QString conversationId() const;
  const store::Conversation& conversation() const { return conv_; }
  std::vector<store::ChatMessage> currentPath() const;
  // The messages beside `id` (same parent, same role), oldest first, itself included.
  std::vector<store::ChatMessage> siblings(int64_t id) const;

  ConversationList& conversations() { return *list_; }
  TokenView& tokens() { return *tokens_; }
  void showTokens(bool on);
  // How often the answer streaming is drawn again as Markdown (between, tokens go in as plain text).
  void setMarkdownInterval(int ms);
  int markdownPasses() const { return markdown_passes_; }  // such drawings so far

 public slots:
  void newChat();
  void openConversation(const QString& id);
  // A new answer beside `assistant` (0: the last answer in view).
  void regenerate(qint64 assistant = 0);
  // A new question beside `user` with `text`, then its answer.
  void editAndResend(qint64 user, const QString& text);
  // Shows the sibling `delta` steps from `id` (and the newest branch under it).
  void switchSibling(qint64 id, int delta);
  // A new answer beside `message`: its tokens before `at`, then alternative `alternative`, continued.
  void forkAt(qint64 message, int at, int alternative);

 signals:
  void answerCompleted(const QString& text, const QString& conversationId, const QString& reason);
  void conversationOpened(const QString& id);

 protected:
  void changeEvent(QEvent* event) override;  // re-renders the transcript in the new palette

 private:
  void show_models(const ModelList& models);
  void send();
  void start(ChatJob job);
  bool fill_model(ChatJob& job, const QString& preferred);
  ChatParams params() const;
  void on_stored(const store::Conversation& c);
  void on_finished(const QString& text, const QString& id, const QString& reason);
  void on_link(const QUrl& url);
  void begin_edit(int64_t user);
  void cancel_edit();
  void render();
  void write_message(QTextCursor& c, const store::ChatMessage& m, bool actions);
  void write_header(QTextCursor& c, const QString& author, bool first);
  void append_text(const QString& text);
  void render_stream();
  void set_busy(bool busy);
  const store::ChatMessage* find(int64_t id) const;
  std::vector<store::ChatMessage> path_to(int64_t leaf) const;
  int64_t newest_leaf_under(int64_t id) const;
  static std::vector<engine::ChatMessage> turns_of(const std::vector<store::ChatMessage>& path);

  Backend& backend_;
  QSplitter* split_;
  ConversationList* list_;
  TokenView* tokens_;
  QComboBox* models_;
  QToolButton* params_button_;
  QToolButton* tokens_button_;
  ChatParamsPanel* params_box_;
  QTextBrowser* transcript_;
  QLabel* editing_;
  QPlainTextEdit* input_;
  QPushButton* send_;
  QPushButton* stop_;
  QPushButton* new_;
  QLabel* status_;
  ModelList chat_models_;

  store::Conversation conv_;  // as last read from the store (all branches)
  int64_t leaf_ = 0;          // the branch in view
  bool streaming_ = false;
  bool detached_ = false;  // the view moved on while an answer streamed: it is stored, not shown
  ChatJob job_;            // the answer streaming
  QString stream_text_;
  QString stream_model_;
  QTimer* markdown_timer_;
  int stream_pos_ = -1;   // where the answer streaming starts in the transcript
  int stream_codes_ = 0;  // code blocks before it
  int markdown_passes_ = 0;
  int64_t edit_target_ = 0;  // the question being edited (0: none)
  QStringList codes_;        // the code blocks' text, for their Copy links
  QString answer_;           // the answer streaming (or the last one)
};

}  // namespace rmm::desktop
