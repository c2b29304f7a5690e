#pragma once
// The token view: an answer's tokens coloured by their probability or by the
// entropy of the distribution they were drawn from, a tooltip per token with
// the model's top alternatives, and a fork from an alternative (the answer's
// tokens up to there, then the chosen one, continued by the model as a new
// sibling answer). It follows the answer streaming, token by token.
#include <QWidget>
#include <vector>

#include "engine/generation.hpp"
#include "token_batch.hpp"
#include "token_events.hpp"

class QComboBox;
class QLabel;
class QListWidget;
class QPushButton;
class QTextBrowser;

namespace rmm::desktop {

class TokenView : public QWidget {
  Q_OBJECT

 public:
  explicit TokenView(QWidget* parent = nullptr);

  // Shows `events` of answer `message` (0: the answer streaming, not stored yet).
  void show_answer(int64_t message, const std::vector<engine::TokenEvent>& events);
  void append(const TokenBatch& events);  // to the answer streaming
  // The answer streaming is stored as `message`, with `count` events: keeps what is drawn when they
  // are all there (no second drawing of a long answer), else shows `events`.
  void adopt(int64_t message, const std::vector<engine::TokenEvent>& events);
  void clear();
  void setLayer(TokenLayer layer);
  // Picks token `i`: its alternatives are listed, ready to fork from.
  void selectToken(int i);
  void setForkEnabled(bool on);

  int64_t message() const { return message_; }
  const std::vector<engine::TokenEvent>& events() const { return events_; }
  int selectedToken() const { return selected_; }
  // The tooltip token `i` shows (read from the document, as the view shows it).
  QString toolTipAt(int i) const;
  // The colour token `i` is drawn on.
  QColor backgroundAt(int i) const;

 signals:
  // Fork answer `message` at token `at` with its alternative `alternative`.
  void forkRequested(qint64 message, int at, int alternative);

 private:
  void render();
  void write_token(int i);
  void show_selected();
  QString tip(const engine::TokenEvent& e) const;

  QComboBox* layer_box_;
  QLabel* summary_;
  QLabel* legend_;  // the colour scale of the layer shown
  QTextBrowser* text_;
  QLabel* picked_;
  QListWidget* alternatives_;
  QPushButton* fork_;
  std::vector<engine::TokenEvent> events_;
  int64_t message_ = -1;  // -1: none shown
  int selected_ = -1;
  TokenLayer layer_ = TokenLayer::Probability;
  bool fork_enabled_ = true;
};

}  // namespace rmm::desktop
