#include "block_panel.hpp"

#include <QAbstractItemModel>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStackedWidget>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>
#include <climits>

namespace rmm::desktop {

namespace {

using json = nlohmann::json;

enum Page { TextPage, PairsPage, ParamsPage, EmptyPage };

const char* const kTypes[] = {"system", "context", "user", "examples", "parameters"};

QString type_label(const QString& type) {
  if (type == QLatin1String("system")) return BlockPanel::tr("System");
  if (type == QLatin1String("context")) return BlockPanel::tr("Context");
  if (type == QLatin1String("user")) return BlockPanel::tr("User");
  if (type == QLatin1String("examples")) return BlockPanel::tr("Examples");
  return BlockPanel::tr("Parameters");
}

// What the list shows for a block: its type and the start of its text.
QString summary(const json& b) {
  const QString type = QString::fromStdString(b.value("type", ""));
  QString detail;
  if (b.contains("text") && b["text"].is_string()) {
    detail = QString::fromStdString(b["text"].get<std::string>()).simplified();
  } else if (type == QLatin1String("examples")) {
    const auto n = b.contains("pairs") && b["pairs"].is_array() ? b["pairs"].size() : 0;
    detail = BlockPanel::tr("%n pair(s)", nullptr, int(n));
  } else if (type == QLatin1String("parameters")) {
    QStringList keys;
    for (const auto& [k, v] : b.items())
      if (k != "type")
        keys << QString::fromStdString(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
    detail = keys.join(QStringLiteral(", "));
  }
  if (detail.size() > 60) detail = detail.left(59) + QChar(0x2026);
  return detail.isEmpty() ? type_label(type) : type_label(type) + QStringLiteral(" — ") + detail;
}

QDoubleSpinBox* unset_double(double lo, double hi, double step) {
  auto* s = new QDoubleSpinBox;
  s->setRange(lo - step, hi);  // the value below the range means "not set"
  s->setSingleStep(step);
  s->setDecimals(2);
  s->setSpecialValueText(BlockPanel::tr("model default"));
  s->setValue(s->minimum());
  return s;
}

}  // namespace

BlockPanel::BlockPanel(QWidget* parent)
    : QWidget(parent),
      list_(new QListWidget),
      remove_(new QPushButton(tr("Remove"))),
      editors_(new QStackedWidget),
      text_(new QPlainTextEdit),
      pairs_(new QTableWidget(0, 2)),
      temperature_(unset_double(0, 2, 0.1)),
      max_tokens_(new QSpinBox),
      top_p_(unset_double(0, 1, 0.05)),
      seed_(new QSpinBox),
      stop_(new QLineEdit) {
  auto* title = new QLabel(tr("<b>Blocks</b>"));
  auto* add = new QToolButton;
  add->setObjectName(QStringLiteral("addBlockButton"));
  add->setText(tr("Add block"));
  add->setPopupMode(QToolButton::InstantPopup);
  auto* menu = new QMenu(add);
  for (const char* t : kTypes) {
    const QString type = QString::fromLatin1(t);
    menu->addAction(type_label(type), this, [this, type] { addBlock(type); });
  }
  add->setMenu(menu);
  remove_->setObjectName(QStringLiteral("removeBlockButton"));
  auto* head = new QHBoxLayout;
  head->addWidget(title);
  head->addStretch(1);
  head->addWidget(add);
  head->addWidget(remove_);

  list_->setObjectName(QStringLiteral("blockList"));
  list_->setDragDropMode(QAbstractItemView::InternalMove);
  list_->setDefaultDropAction(Qt::MoveAction);
  list_->setSelectionMode(QAbstractItemView::SingleSelection);
  list_->setToolTip(tr("Drag to reorder, or Alt+Up / Alt+Down"));
  list_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  list_->setTextElideMode(Qt::ElideRight);
  list_->setSpacing(2);
  list_->installEventFilter(this);

  text_->setObjectName(QStringLiteral("blockText"));
  text_->setPlaceholderText(tr("Text; {{name}} inserts a variable"));
  text_->setTabChangesFocus(true);

  // Examples: one row per user/assistant pair.
  auto* pairs_page = new QWidget;
  pairs_->setObjectName(QStringLiteral("pairsTable"));
  pairs_->setHorizontalHeaderLabels({tr("User"), tr("Assistant")});
  pairs_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  pairs_->verticalHeader()->setVisible(false);
  auto* add_pair = new QPushButton(tr("Add pair"));
  add_pair->setObjectName(QStringLiteral("addPairButton"));
  auto* remove_pair = new QPushButton(tr("Remove pair"));
  auto* pair_buttons = new QHBoxLayout;
  pair_buttons->addWidget(add_pair);
  pair_buttons->addWidget(remove_pair);
  pair_buttons->addStretch(1);
  auto* pairs_layout = new QVBoxLayout(pairs_page);
  pairs_layout->setContentsMargins(0, 0, 0, 0);
  pairs_layout->addWidget(pairs_);
  pairs_layout->addLayout(pair_buttons);

  // Parameters: the value below each range means "not set".
  auto* params_page = new QWidget;
  max_tokens_->setRange(0, 1 << 20);
  max_tokens_->setSpecialValueText(tr("model default"));
  seed_->setRange(-1, INT_MAX);
  seed_->setSpecialValueText(tr("random"));
  seed_->setValue(-1);
  stop_->setPlaceholderText(tr("comma-separated"));
  temperature_->setObjectName(QStringLiteral("paramTemperature"));
  max_tokens_->setObjectName(QStringLiteral("paramMaxTokens"));
  top_p_->setObjectName(QStringLiteral("paramTopP"));
  seed_->setObjectName(QStringLiteral("paramSeed"));
  stop_->setObjectName(QStringLiteral("paramStop"));
  auto* form = new QFormLayout(params_page);
  form->setContentsMargins(0, 0, 0, 0);
  form->addRow(tr("Temperature"), temperature_);
  form->addRow(tr("Max tokens"), max_tokens_);
  form->addRow(tr("Top p"), top_p_);
  form->addRow(tr("Seed"), seed_);
  form->addRow(tr("Stop"), stop_);

  auto* empty = new QLabel(tr("Add a block: system, context, user, examples or parameters."));
  empty->setWordWrap(true);
  empty->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  empty->setForegroundRole(QPalette::PlaceholderText);
  editors_->insertWidget(TextPage, text_);
  editors_->insertWidget(PairsPage, pairs_page);
  editors_->insertWidget(ParamsPage, params_page);
  editors_->insertWidget(EmptyPage, empty);
  editors_->setCurrentIndex(EmptyPage);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(6);
  layout->addLayout(head);
  layout->addWidget(list_, 2);
  layout->addWidget(editors_, 3);

  connect(list_, &QListWidget::currentItemChanged, this, [this] { show_current(); });
  connect(remove_, &QPushButton::clicked, this, &BlockPanel::removeCurrent);
  // However the order changes (drop, moveRows, keys), the preview follows.
  auto* model = list_->model();
  connect(model, &QAbstractItemModel::rowsMoved, this, &BlockPanel::changed);
  connect(model, &QAbstractItemModel::rowsInserted, this, &BlockPanel::changed);
  connect(model, &QAbstractItemModel::rowsRemoved, this, &BlockPanel::changed);
  connect(model, &QAbstractItemModel::layoutChanged, this, &BlockPanel::changed);
  connect(text_, &QPlainTextEdit::textChanged, this, &BlockPanel::store_current);
  connect(pairs_, &QTableWidget::cellChanged, this, &BlockPanel::store_current);
  connect(add_pair, &QPushButton::clicked, this, [this] {
    loading_ = true;
    const int row = pairs_->rowCount();
    pairs_->insertRow(row);
    pairs_->setItem(row, 0, new QTableWidgetItem);
    pairs_->setItem(row, 1, new QTableWidgetItem);
    loading_ = false;
    store_current();
    pairs_->setCurrentCell(row, 0);
  });
  connect(remove_pair, &QPushButton::clicked, this, [this] {
    if (pairs_->currentRow() < 0) return;
    pairs_->removeRow(pairs_->currentRow());
    store_current();
  });
  for (auto* s : {temperature_, top_p_})
    connect(s, &QDoubleSpinBox::valueChanged, this, &BlockPanel::store_current);
  for (auto* s : {max_tokens_, seed_}) connect(s, &QSpinBox::valueChanged, this, &BlockPanel::store_current);
  connect(stop_, &QLineEdit::textChanged, this, &BlockPanel::store_current);
  show_current();
}

json BlockPanel::blocks() const {
  json out = json::array();
  for (int i = 0; i < list_->count(); ++i)
    out.push_back(json::parse(list_->item(i)->data(Qt::UserRole).toString().toStdString()));
  return out;
}

void BlockPanel::setBlocks(const json& blocks) {
  list_->clear();
  for (const auto& b : blocks) {
    auto* item = new QListWidgetItem;
    set_item(item, b);
    list_->addItem(item);
  }
  if (list_->count()) list_->setCurrentRow(0);
  show_current();
  emit changed();
}

void BlockPanel::addBlock(const QString& type, const json& block) {
  json b = block.is_object() ? block : json{{"type", type.toStdString()}};
  if (!block.is_object()) {
    if (type == QLatin1String("examples"))
      b["pairs"] = json::array({{{"user", ""}, {"assistant", ""}}});
    else if (type != QLatin1String("parameters"))
      b["text"] = "";
  }
  auto* item = new QListWidgetItem;
  set_item(item, b);
  list_->insertItem(list_->currentRow() + 1, item);
  list_->setCurrentItem(item);
  if (type != QLatin1String("parameters") && type != QLatin1String("examples")) text_->setFocus();
}

void BlockPanel::removeCurrent() {
  const int row = list_->currentRow();
  if (row < 0) return;
  delete list_->takeItem(row);
  show_current();
}

void BlockPanel::moveCurrent(int delta) {
  const int row = list_->currentRow();
  const int to = row + delta;
  if (row < 0 || to < 0 || to >= list_->count()) return;
  // moveRow's destination is the row the block goes before, counted before the move.
  list_->model()->moveRow(QModelIndex(), row, QModelIndex(), delta > 0 ? to + 1 : to);
  list_->setCurrentRow(to);
}

void BlockPanel::markError(int row) {
  for (int i = 0; i < list_->count(); ++i) {
    auto* item = list_->item(i);
    item->setData(Qt::ForegroundRole, i == row ? QVariant(QColor(0xd0, 0x3a, 0x3a)) : QVariant());
  }
}

bool BlockPanel::eventFilter(QObject* watched, QEvent* event) {
  if (watched == list_ && event->type() == QEvent::KeyPress) {
    auto* key = static_cast<QKeyEvent*>(event);
    if (key->modifiers() == Qt::AltModifier && (key->key() == Qt::Key_Up || key->key() == Qt::Key_Down)) {
      moveCurrent(key->key() == Qt::Key_Up ? -1 : 1);
      return true;
    }
    if (key->key() == Qt::Key_Delete) {
      removeCurrent();
      return true;
    }
  }
  return QWidget::eventFilter(watched, event);
}

void BlockPanel::set_item(QListWidgetItem* item, const json& block) {
  item->setData(Qt::UserRole, QString::fromStdString(block.dump()));
  item->setText(summary(block));
  item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled);
}

void BlockPanel::show_current() {
  auto* item = list_->currentItem();
  remove_->setEnabled(item != nullptr);
  if (!item) {
    editors_->setCurrentIndex(EmptyPage);
    return;
  }
  const json b = json::parse(item->data(Qt::UserRole).toString().toStdString());
  const std::string type = b.value("type", "");
  loading_ = true;
  if (type == "examples") {
    pairs_->setRowCount(0);
    if (b.contains("pairs") && b["pairs"].is_array()) {
      for (const auto& p : b["pairs"]) {
        const int row = pairs_->rowCount();
        pairs_->insertRow(row);
        pairs_->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(p.value("user", ""))));
        pairs_->setItem(row, 1, new QTableWidgetItem(QString::fromStdString(p.value("assistant", ""))));
      }
    }
    editors_->setCurrentIndex(PairsPage);
  } else if (type == "parameters") {
    auto num = [&](const char* k, double unset) {
      return b.contains(k) && b[k].is_number() ? b[k].get<double>() : unset;
    };
    temperature_->setValue(num("temperature", temperature_->minimum()));
    max_tokens_->setValue(int(num("max_tokens", 0)));
    top_p_->setValue(num("top_p", top_p_->minimum()));
    seed_->setValue(int(num("seed", -1)));
    QStringList stops;
    if (b.contains("stop") && b["stop"].is_array())
      for (const auto& s : b["stop"])
        if (s.is_string()) stops << QString::fromStdString(s.get<std::string>());
    if (b.contains("stop") && b["stop"].is_string())
      stops << QString::fromStdString(b["stop"].get<std::string>());
    stop_->setText(stops.join(QStringLiteral(", ")));
    editors_->setCurrentIndex(ParamsPage);
  } else {
    if (text_->toPlainText().toStdString() != b.value("text", ""))
      text_->setPlainText(QString::fromStdString(b.value("text", "")));
    editors_->setCurrentIndex(TextPage);
  }
  loading_ = false;
}

void BlockPanel::store_current() {
  auto* item = list_->currentItem();
  if (loading_ || !item) return;
  json b = json::parse(item->data(Qt::UserRole).toString().toStdString());
  const std::string type = b.value("type", "");
  if (type == "examples") {
    json pairs = json::array();
    for (int r = 0; r < pairs_->rowCount(); ++r) {
      auto cell = [&](int c) {
        return pairs_->item(r, c) ? pairs_->item(r, c)->text().toStdString() : std::string();
      };
      pairs.push_back({{"user", cell(0)}, {"assistant", cell(1)}});
    }
    b["pairs"] = pairs;
  } else if (type == "parameters") {
    // Set fields only; others the block came with (response_format, model) stay.
    auto put = [&](const char* k, bool set, const json& v) {
      if (set)
        b[k] = v;
      else
        b.erase(k);
    };
    put("temperature", temperature_->value() > temperature_->minimum(), temperature_->value());
    put("max_tokens", max_tokens_->value() > 0, max_tokens_->value());
    put("top_p", top_p_->value() > top_p_->minimum(), top_p_->value());
    put("seed", seed_->value() >= 0, seed_->value());
    json stops = json::array();
    for (const QString& s : stop_->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
      if (!s.trimmed().isEmpty()) stops.push_back(s.trimmed().toStdString());
    put("stop", !stops.empty(), stops);
  } else {
    b["text"] = text_->toPlainText().toStdString();
  }
  set_item(item, b);
  emit changed();
}

}  // namespace rmm::desktop
