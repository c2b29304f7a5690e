#include "conversation_list.hpp"

#include <QApplication>
#include <QDateTime>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QSaveFile>
#include <QStandardPaths>
#include <QStyledItemDelegate>
#include <QTimer>
#include <QVBoxLayout>

#include "backend.hpp"
#include "core/error.hpp"
#include "plain_label.hpp"
#include "serving/chat_export.hpp"

namespace rmm::desktop {

namespace {

struct Row {
  QString id;
  QString title;
  QString model;
  qint64 updated = 0;
  int messages = 0;
};

constexpr int kDetailRole = Qt::UserRole + 1;

// Two lines per conversation: its title, then its model and when it last changed (quieter), so
// that conversations with the same title tell apart.
class ConversationDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;

  void paint(QPainter* p, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    QStyleOptionViewItem o = option;
    initStyleOption(&o, index);
    const QString title = o.text;
    o.text.clear();
    const QWidget* w = o.widget;
    QStyle* style = w ? w->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &o, p, w);
    const bool selected = o.state & QStyle::State_Selected;
    const QRect r = o.rect.adjusted(8, 4, -8, -4);
    const QFontMetrics fm(o.font);
    p->save();
    p->setFont(o.font);
    p->setPen(o.palette.color(selected ? QPalette::HighlightedText : QPalette::Text));
    p->drawText(QRect(r.left(), r.top(), r.width(), fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                fm.elidedText(title, Qt::ElideRight, r.width()));
    QFont small = o.font;
    small.setPointSizeF(o.font.pointSizeF() * 0.85);
    const QFontMetrics sm(small);
    p->setFont(small);
    p->setPen(o.palette.color(selected ? QPalette::HighlightedText : QPalette::PlaceholderText));
    p->drawText(QRect(r.left(), r.top() + fm.height() + 2, r.width(), sm.height()),
                Qt::AlignLeft | Qt::AlignVCenter,
                sm.elidedText(index.data(kDetailRole).toString(), Qt::ElideRight, r.width()));
    p->restore();
  }

  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const override {
    QFont small = option.font;
    small.setPointSizeF(option.font.pointSizeF() * 0.85);
    return QSize(0, QFontMetrics(option.font).height() + QFontMetrics(small).height() + 12);
  }
};

QString when(qint64 ms) {
  const QDateTime t = QDateTime::fromMSecsSinceEpoch(ms);
  return t.date() == QDate::currentDate() ? t.toString(QStringLiteral("HH:mm"))
                                          : t.toString(QStringLiteral("d MMM yyyy"));
}

}  // namespace

ConversationList::ConversationList(Backend& backend, QWidget* parent)
    : QWidget(parent),
      backend_(backend),
      search_(new QLineEdit),
      list_(new QListWidget),
      empty_(plain_label()),
      rename_(new QPushButton(tr("Rename"))),
      delete_(new QPushButton(tr("Delete"))),
      export_(new QPushButton(tr("Export"))),
      debounce_(new QTimer(this)),
      layout_(new QVBoxLayout(this)) {
  setObjectName(QStringLiteral("conversationPane"));
  search_->setObjectName(QStringLiteral("conversationSearch"));
  search_->setPlaceholderText(tr("Search conversations (Ctrl+F)"));
  search_->setClearButtonEnabled(true);
  list_->setObjectName(QStringLiteral("conversationList"));
  list_->setUniformItemSizes(true);
  list_->setItemDelegate(new ConversationDelegate(list_));
  list_->setTextElideMode(Qt::ElideRight);
  list_->setWordWrap(false);
  rename_->setObjectName(QStringLiteral("renameConversation"));
  delete_->setObjectName(QStringLiteral("deleteConversation"));
  export_->setObjectName(QStringLiteral("exportConversation"));
  auto* buttons = new QHBoxLayout;
  buttons->setSpacing(6);
  buttons->addWidget(rename_);
  buttons->addWidget(delete_);
  buttons->addWidget(export_);

  layout_->setContentsMargins(12, 16, 8, 12);
  layout_->setSpacing(8);
  empty_->setObjectName(QStringLiteral("conversationsEmpty"));
  empty_->setForegroundRole(QPalette::PlaceholderText);
  empty_->setWordWrap(true);
  empty_->hide();
  layout_->addWidget(search_);
  layout_->addWidget(empty_);
  layout_->addWidget(list_, 1);
  layout_->addLayout(buttons);

  debounce_->setSingleShot(true);
  debounce_->setInterval(200);
  connect(debounce_, &QTimer::timeout, this, &ConversationList::refresh);
  connect(search_, &QLineEdit::textChanged, debounce_, qOverload<>(&QTimer::start));
  connect(list_, &QListWidget::itemActivated, this,
          [this](QListWidgetItem* item) { emit opened(item->data(Qt::UserRole).toString()); });
  connect(list_, &QListWidget::itemClicked, this, [this](QListWidgetItem* item) {
    const QString id = item->data(Qt::UserRole).toString();
    if (id != current_) emit opened(id);
  });
  connect(list_, &QListWidget::currentRowChanged, this, [this] { update_buttons(); });
  connect(rename_, &QPushButton::clicked, this, &ConversationList::ask_rename);
  connect(delete_, &QPushButton::clicked, this, &ConversationList::ask_delete);
  connect(export_, &QPushButton::clicked, this, &ConversationList::ask_export);
  update_buttons();
}

void ConversationList::refresh() {
  store::ConversationQuery q;
  q.search = search_->text().trimmed().toStdString();
  q.limit = 200;
  const int generation = ++generation_;
  backend_.call(
      this,
      [q](AppCore& core) {
        QVector<Row> rows;
        for (const auto& c : core.store().list_conversations(q).items) {
          rows.push_back({QString::fromStdString(c.id), QString::fromStdString(c.title),
                          QString::fromStdString(c.model), c.updated_at, c.message_count});
        }
        return rows;
      },
      [this, generation](const QVector<Row>& rows) {
        if (generation != generation_) return;  // a newer search is on its way
        list_->clear();
        for (const auto& r : rows) {
          const QString title = r.title.isEmpty() ? tr("Untitled conversation") : r.title;
          auto* item = new QListWidgetItem(title);
          item->setData(Qt::UserRole, r.id);
          item->setToolTip(tr("%1\n%2 · %n message(s) · %3", nullptr, r.messages)
                               .arg(title, r.model.isEmpty() ? tr("no model") : r.model, when(r.updated)));
          item->setData(kDetailRole, QStringLiteral("%1 · %2").arg(
                                         r.model.isEmpty() ? tr("no model") : r.model, when(r.updated)));
          list_->addItem(item);
          if (r.id == current_) list_->setCurrentItem(item);
        }
        const QString query = search_->text().trimmed();
        empty_->setText(query.isEmpty() ? tr("No conversations yet: send a message to start one.")
                                        : tr("No conversation matches \u201c%1\u201d.").arg(query));
        empty_->setVisible(rows.isEmpty());
        update_buttons();
        emit listed();
      });
}

void ConversationList::setCurrent(const QString& id) {
  current_ = id;
  for (int i = 0; i < list_->count(); ++i) {
    if (list_->item(i)->data(Qt::UserRole).toString() == id) {
      list_->setCurrentRow(i);
      return;
    }
  }
  list_->setCurrentRow(-1);
  list_->clearSelection();
}

void ConversationList::focusSearch() {
  search_->setFocus(Qt::ShortcutFocusReason);
  search_->selectAll();
}

void ConversationList::addHeader(QWidget* w) { layout_->insertWidget(0, w); }

void ConversationList::setSearch(const QString& text) { search_->setText(text); }

QStringList ConversationList::ids() const {
  QStringList out;
  for (int i = 0; i < list_->count(); ++i) out << list_->item(i)->data(Qt::UserRole).toString();
  return out;
}

void ConversationList::update_buttons() {
  const bool any = list_->currentItem() != nullptr;
  rename_->setEnabled(any);
  delete_->setEnabled(any);
  export_->setEnabled(any);
}

void ConversationList::renameConversation(const QString& id, const QString& title) {
  backend_.call(
      this,
      [id = id.toStdString(), t = title.trimmed().toStdString()](AppCore& core) {
        return core.store().rename_conversation(id, t);
      },
      [this, id, title](bool) {
        emit renamed(id, title.trimmed());
        refresh();
      });
}

void ConversationList::deleteConversation(const QString& id) {
  backend_.call(
      this, [id = id.toStdString()](AppCore& core) { return core.store().delete_conversation(id); },
      [this, id](bool) {
        emit deleted(id);
        refresh();
      });
}

void ConversationList::exportConversation(const QString& id, const QString& path) {
  const bool json = path.endsWith(QLatin1String(".json"), Qt::CaseInsensitive);
  backend_.call(
      this,
      [id = id.toStdString(), path, json](AppCore& core) {
        const auto c = core.store().get_conversation(id);
        if (!c) throw Error(ErrorKind::NotFound, "the conversation is gone");
        const std::string text = json ? serving::conversation_json(*c).dump(
                                            2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
                                            "\n"
                                      : serving::conversation_markdown(*c);
        QSaveFile f(path);
        if (!f.open(QIODevice::WriteOnly) ||
            f.write(text.data(), qint64(text.size())) != qint64(text.size()) || !f.commit())
          throw Error(ErrorKind::Internal,
                      "cannot write " + path.toStdString() + ": " + f.errorString().toStdString());
        return path;
      },
      [this](const QString& written) { emit exported(written); });
}

void ConversationList::ask_rename() {
  const auto* item = list_->currentItem();
  if (!item) return;
  bool ok = false;
  const QString title = QInputDialog::getText(this, tr("Rename conversation"), tr("Title"), QLineEdit::Normal,
                                              item->text(), &ok);
  if (ok && !title.trimmed().isEmpty()) renameConversation(item->data(Qt::UserRole).toString(), title);
}

void ConversationList::ask_delete() {
  const auto* item = list_->currentItem();
  if (!item) return;
  const QString id = item->data(Qt::UserRole).toString();
  QMessageBox box(QMessageBox::Warning, tr("Delete conversation"),
                  tr("Delete “%1” and all its branches? This cannot be undone.").arg(item->text()),
                  QMessageBox::Cancel, this);
  box.setObjectName(QStringLiteral("confirmDelete"));
  QPushButton* yes = box.addButton(tr("Delete"), QMessageBox::DestructiveRole);
  box.setDefaultButton(QMessageBox::Cancel);
  box.exec();
  if (box.clickedButton() == yes) deleteConversation(id);
}

void ConversationList::ask_export() {
  const auto* item = list_->currentItem();
  if (!item) return;
  const QString id = item->data(Qt::UserRole).toString();
  const QString dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
  QString filter;
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Export conversation"), dir + QStringLiteral("/chat-%1.md").arg(id),
      tr("Markdown (*.md);;JSON, every branch (*.json)"), &filter);
  if (path.isEmpty()) return;
  QString target = path;
  if (QFileInfo(target).suffix().isEmpty())
    target += filter.contains(QLatin1String("json")) ? QStringLiteral(".json") : QStringLiteral(".md");
  exportConversation(id, target);
}

}  // namespace rmm::desktop
