#pragma once
// The Chat screen's left pane: the stored conversations (the same chat
// history the web UI and `rmm serve` show), newest first, with a search over
// titles and messages, and rename, delete (after a confirmation) and export
// (Markdown or JSON, as /api/chat/history/{id}/export writes them).
#include <QString>
#include <QWidget>

class QLineEdit;
class QLabel;
class QListWidget;
class QPushButton;
class QTimer;
class QVBoxLayout;

namespace rmm::desktop {

class Backend;

class ConversationList : public QWidget {
  Q_OBJECT

 public:
  explicit ConversationList(Backend& backend, QWidget* parent = nullptr);

  // Lists the conversations again (the search kept); listed() when done.
  void refresh();
  // Marks `id` as the one open ("" = none) without opening it.
  void setCurrent(const QString& id);
  QString current() const { return current_; }
  void focusSearch();
  // Puts `w` above the search field (the screen's New chat button).
  void addHeader(QWidget* w);
  void setSearch(const QString& text);

  // What the buttons do once the user has said what and where.
  void renameConversation(const QString& id, const QString& title);
  void deleteConversation(const QString& id);
  // The format follows the file's extension: .json, else Markdown.
  void exportConversation(const QString& id, const QString& path);

  // The conversations listed now, in order (ids).
  QStringList ids() const;

 signals:
  void opened(const QString& id);
  void deleted(const QString& id);
  void renamed(const QString& id, const QString& title);
  void exported(const QString& path);
  void listed();

 private:
  void ask_rename();
  void ask_delete();
  void ask_export();
  void update_buttons();

  Backend& backend_;
  QLineEdit* search_;
  QListWidget* list_;
  QLabel* empty_;  // said when there is nothing to list
  QPushButton* rename_;
  QPushButton* delete_;
  QPushButton* export_;
  QTimer* debounce_;
  QVBoxLayout* layout_;
  QString current_;
  int generation_ = 0;  // the newest listing asked for: older answers are dropped
};

}  // namespace rmm::desktop
