#include "token_view.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextBrowser>
#include <QTextCursor>
#include <QVBoxLayout>
#include <cmath>

#include "plain_label.hpp"

namespace rmm::desktop {

namespace {

// A token's text made visible: line breaks as a return sign (the break kept),
// tabs as an arrow, a token that ends inside a character as ‹bytes›.
QString visible(const std::string& text) {
  if (text.empty()) return QStringLiteral("‹bytes›");
  QString s = QString::fromStdString(text);
  s.replace(QLatin1Char('\t'), QStringLiteral("→"));
  s.replace(QLatin1Char('\n'), QStringLiteral("↵\n"));
  return s;
}

// An alternative's text on one line: spaces as middle dots.
QString label(const std::string& text) {
  if (text.empty()) return QStringLiteral("‹bytes›");
  QString s = QString::fromStdString(text);
  s.replace(QLatin1Char(' '), QStringLiteral("·"));
  s.replace(QLatin1Char('\n'), QStringLiteral("↵"));
  s.replace(QLatin1Char('\t'), QStringLiteral("→"));
  return s;
}

QString percent(double p) { return QString::number(p * 100.0, 'f', 1) + QLatin1Char('%'); }

QString anchor_of(int i) { return QStringLiteral("tok:%1").arg(i); }

}  // namespace

TokenView::TokenView(QWidget* parent)
    : QWidget(parent),
      layer_box_(new QComboBox),
      summary_(plain_label()),
      legend_(new QLabel),
      text_(new QTextBrowser),
      picked_(new QLabel),
      alternatives_(new QListWidget),
      fork_(new QPushButton(tr("Fork from this alternative"))) {
  setObjectName(QStringLiteral("tokenView"));
  auto* title = new QLabel(tr("Tokens"));
  QFont f = title->font();
  f.setBold(true);
  title->setFont(f);
  layer_box_->setObjectName(QStringLiteral("tokenLayer"));
  layer_box_->addItem(tr("Probability"));
  layer_box_->addItem(tr("Entropy"));
  auto* head = new QHBoxLayout;
  head->addWidget(title);
  head->addStretch(1);
  head->addWidget(new QLabel(tr("Colour by")));
  head->addWidget(layer_box_);

  summary_->setObjectName(QStringLiteral("tokenSummary"));
  summary_->setForegroundRole(QPalette::PlaceholderText);
  summary_->setWordWrap(true);
  legend_->setObjectName(QStringLiteral("tokenLegend"));
  legend_->setTextFormat(Qt::RichText);
  text_->setObjectName(QStringLiteral("tokenText"));
  text_->setOpenLinks(false);
  text_->document()->setDocumentMargin(10);
  QFont tf = text_->font();
  tf.setPointSizeF(tf.pointSizeF() * 1.1);
  text_->document()->setDefaultFont(tf);
  text_->setPlaceholderText(tr("Click “Tokens” on an answer to see how sure the model was of each token."));
  picked_->setObjectName(QStringLiteral("tokenPicked"));
  picked_->setWordWrap(true);
  picked_->setTextFormat(Qt::PlainText);
  alternatives_->setObjectName(QStringLiteral("tokenAlternatives"));
  alternatives_->setMaximumHeight(alternatives_->fontMetrics().lineSpacing() * (kAlternatives + 1) + 12);
  fork_->setObjectName(QStringLiteral("forkButton"));
  fork_->setToolTip(
      tr("A new answer beside this one: the tokens before this one, then the chosen "
         "alternative, and the model goes on from there"));
  fork_->setEnabled(false);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(12, 16, 16, 12);
  layout->setSpacing(8);
  layout->addLayout(head);
  layout->addWidget(summary_);
  layout->addWidget(legend_);
  layout->addWidget(text_, 1);
  layout->addWidget(picked_);
  layout->addWidget(alternatives_);
  layout->addWidget(fork_);

  connect(layer_box_, &QComboBox::currentIndexChanged, this,
          [this](int i) { setLayer(i == 1 ? TokenLayer::Entropy : TokenLayer::Probability); });
  connect(text_, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) {
    const QString s = url.toString();
    if (s.startsWith(QLatin1String("tok:"))) selectToken(s.mid(4).toInt());
  });
  connect(alternatives_, &QListWidget::currentRowChanged, this, [this](int) { show_selected(); });
  connect(fork_, &QPushButton::clicked, this, [this] {
    const auto* item = alternatives_->currentItem();
    if (!item || selected_ < 0 || message_ <= 0) return;
    emit forkRequested(message_, selected_, item->data(Qt::UserRole).toInt());
  });
}

void TokenView::show_answer(int64_t message, const std::vector<engine::TokenEvent>& events) {
  message_ = message;
  events_ = events;
  selected_ = -1;
  render();
}

void TokenView::append(const TokenBatch& events) {
  if (message_ != 0) return;
  QScrollBar* bar = text_->verticalScrollBar();
  const bool at_end = bar->value() >= bar->maximum() - 4;
  QTextCursor block(text_->document());
  block.beginEditBlock();  // one relayout for the batch
  for (const auto& ev : events) {
    events_.push_back(ev);
    write_token(static_cast<int>(events_.size()) - 1);
  }
  block.endEditBlock();
  if (at_end) bar->setValue(bar->maximum());
}

void TokenView::adopt(int64_t message, const std::vector<engine::TokenEvent>& events) {
  if (message_ == 0 && events.size() == events_.size()) {
    message_ = message;
    show_selected();  // Fork may be offered now that the answer is stored
    return;
  }
  show_answer(message, events);
}

void TokenView::clear() { show_answer(-1, {}); }

void TokenView::setLayer(TokenLayer layer) {
  layer_ = layer;
  const int i = layer == TokenLayer::Entropy ? 1 : 0;
  if (layer_box_->currentIndex() != i) layer_box_->setCurrentIndex(i);
  render();
}

void TokenView::setForkEnabled(bool on) {
  fork_enabled_ = on;
  show_selected();
}

void TokenView::render() {
  // The scale, from unremarkable to remarkable, in the colours the tokens are drawn in.
  QString legend = layer_ == TokenLayer::Probability ? tr("likely") : tr("sure");
  legend += QStringLiteral("&nbsp;");
  for (int k = 0; k <= 6; ++k) {
    legend += QStringLiteral("<span style=\"background-color:%1\">&nbsp;&nbsp;&nbsp;</span>")
                  .arg(scale_background(k / 6.0, layer_).name());
  }
  legend += QStringLiteral("&nbsp;") + (layer_ == TokenLayer::Probability ? tr("unlikely") : tr("uncertain"));
  legend_->setText(legend);
  text_->clear();
  // Room between the lines, so that each token's colour reads as its own.
  QTextBlockFormat lines;
  lines.setLineHeight(150, QTextBlockFormat::ProportionalHeight);
  QTextCursor(text_->document()).setBlockFormat(lines);
  for (int i = 0; i < static_cast<int>(events_.size()); ++i) write_token(i);
  // Mean log-probability and perplexity, as the web UI's inspector sums them up.
  double sum = 0, hsum = 0;
  int n = 0, hn = 0;
  for (const auto& e : events_) {
    if (std::isfinite(e.logprob)) sum += e.logprob, ++n;
    if (std::isfinite(e.entropy)) hsum += e.entropy, ++hn;
  }
  if (events_.empty()) {
    summary_->setText(message_ < 0 ? QString() : tr("No token events were kept for this answer."));
  } else {
    QString s = events_.size() == 1 ? tr("1 token") : tr("%1 tokens").arg(events_.size());
    if (n) s += tr(" · perplexity %1").arg(std::exp(-sum / n), 0, 'f', 2);
    if (hn) s += tr(" · mean entropy %1 nats").arg(hsum / hn, 0, 'f', 2);
    summary_->setText(s);
  }
  show_selected();
}

void TokenView::write_token(int i) {
  const auto& e = events_[static_cast<size_t>(i)];
  const double t = layer_value(e, layer_);
  QTextCharFormat f;
  f.setBackground(scale_background(t, layer_));
  f.setForeground(scale_text(t, layer_));
  f.setAnchor(true);
  f.setAnchorHref(anchor_of(i));
  f.setToolTip(tip(e));
  if (i == selected_) {
    f.setFontUnderline(true);
    f.setFontWeight(QFont::Bold);
  }
  QTextCursor c(text_->document());
  c.movePosition(QTextCursor::End);
  c.insertText(visible(e.text), f);
}

QString TokenView::tip(const engine::TokenEvent& e) const {
  QString s = QStringLiteral("<b>%1</b> &nbsp;p = %2")
                  .arg(label(e.text).toHtmlEscaped(), percent(probability(e.logprob)));
  if (std::isfinite(e.entropy)) s += tr("<br>entropy %1 nats").arg(e.entropy, 0, 'f', 2);
  if (!e.top.empty()) {
    s += QStringLiteral("<table cellspacing=0 cellpadding=1>");
    for (const auto& a : e.top) {
      s += QStringLiteral("<tr><td>%1%2</td><td align=right>&nbsp;&nbsp;%3</td></tr>")
               .arg(a.token == e.token ? QStringLiteral("✓ ") : QString(), label(a.text).toHtmlEscaped(),
                    percent(probability(a.logprob)));
    }
    s += QStringLiteral("</table>");
  }
  return s;
}

void TokenView::selectToken(int i) {
  if (i < 0 || i >= static_cast<int>(events_.size())) return;
  const int before = selected_;
  selected_ = i;
  if (before != i) render();
  const auto& e = events_[static_cast<size_t>(i)];
  alternatives_->blockSignals(true);
  alternatives_->clear();
  int row = 0, first_other = -1;
  for (const auto& a : e.top) {
    auto* item =
        new QListWidgetItem(QStringLiteral("%1%2\t%3")
                                .arg(a.token == e.token ? QStringLiteral("✓ ") : QStringLiteral("   "),
                                     label(a.text), percent(probability(a.logprob))));
    item->setData(Qt::UserRole, row);
    alternatives_->addItem(item);
    if (first_other < 0 && a.token != e.token) first_other = row;
    ++row;
  }
  alternatives_->setCurrentRow(first_other);
  alternatives_->blockSignals(false);
  show_selected();
}

void TokenView::show_selected() {
  if (selected_ < 0 || selected_ >= static_cast<int>(events_.size())) {
    picked_->setText(events_.empty() ? QString() : tr("Click a token to see its alternatives."));
    alternatives_->clear();
    fork_->setEnabled(false);
    return;
  }
  const auto& e = events_[static_cast<size_t>(selected_)];
  QString s =
      tr("Token %1: “%2”, p = %3").arg(selected_ + 1).arg(label(e.text), percent(probability(e.logprob)));
  if (std::isfinite(e.entropy)) s += tr(", entropy %1 nats").arg(e.entropy, 0, 'f', 2);
  picked_->setText(s);
  const auto* item = alternatives_->currentItem();
  const int alt = item ? item->data(Qt::UserRole).toInt() : -1;
  const bool other =
      alt >= 0 && alt < static_cast<int>(e.top.size()) && e.top[static_cast<size_t>(alt)].token != e.token;
  fork_->setEnabled(fork_enabled_ && message_ > 0 && other);
}

QString TokenView::toolTipAt(int i) const {
  const QString want = anchor_of(i);
  for (QTextBlock b = text_->document()->begin(); b.isValid(); b = b.next()) {
    for (auto it = b.begin(); !it.atEnd(); ++it) {
      const QTextCharFormat f = it.fragment().charFormat();
      if (f.anchorHref() == want) return f.toolTip();
    }
  }
  return QString();
}

QColor TokenView::backgroundAt(int i) const {
  const QString want = anchor_of(i);
  for (QTextBlock b = text_->document()->begin(); b.isValid(); b = b.next()) {
    for (auto it = b.begin(); !it.atEnd(); ++it) {
      const QTextCharFormat f = it.fragment().charFormat();
      if (f.anchorHref() == want) return f.background().color();
    }
  }
  return QColor();
}

}  // namespace rmm::desktop
