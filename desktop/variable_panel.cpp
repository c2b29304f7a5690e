#include "variable_panel.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

namespace rmm::desktop {

namespace {

using json = nlohmann::json;

const char* const kTypes[] = {"text", "multiline", "select", "number", "boolean"};
constexpr int kRangeRow = 4;  // min, max, step: the form's fifth row

QString summary(const json& v) {
  return QString::fromStdString(v.value("name", "")) + QStringLiteral("  ·  ") +
         QString::fromStdString(v.value("type", "text")) +
         (v.value("required", false) ? QStringLiteral(" *") : QString());
}

QString text_of(const json& j) {
  if (j.is_null()) return QString();
  if (j.is_string()) return QString::fromStdString(j.get<std::string>());
  return QString::fromStdString(j.dump());
}

// A number field: a number when it reads as one, else the text as typed (the
// template's validation then names the field).
json number_or_text(const QString& s) {
  bool ok = false;
  const double d = s.trimmed().toDouble(&ok);
  if (!ok) return s.toStdString();
  if (d == double(qint64(d))) return qint64(d);
  return d;
}

}  // namespace

VariablePanel::VariablePanel(QWidget* parent)
    : QWidget(parent),
      list_(new QListWidget),
      remove_(new QPushButton(tr("Remove"))),
      editor_(new QWidget),
      form_(new QFormLayout(editor_)),
      name_(new QLineEdit),
      type_(new QComboBox),
      label_(new QLineEdit),
      options_(new QLineEdit),
      min_(new QLineEdit),
      max_(new QLineEdit),
      step_(new QLineEdit),
      default_(new QLineEdit),
      required_(new QCheckBox(tr("Required"))) {
  auto* add = new QPushButton(tr("Add variable"));
  add->setObjectName(QStringLiteral("addVariableButton"));
  remove_->setObjectName(QStringLiteral("removeVariableButton"));
  auto* head = new QHBoxLayout;
  head->addWidget(new QLabel(tr("<b>Variables</b>")));
  head->addStretch(1);
  head->addWidget(add);
  head->addWidget(remove_);

  list_->setObjectName(QStringLiteral("variableList"));
  list_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  list_->setTextElideMode(Qt::ElideRight);
  list_->setSpacing(2);
  list_->setMinimumHeight(64);
  for (const char* t : kTypes) type_->addItem(QString::fromLatin1(t));
  name_->setObjectName(QStringLiteral("variableName"));
  type_->setObjectName(QStringLiteral("variableType"));
  label_->setObjectName(QStringLiteral("variableLabel"));
  options_->setObjectName(QStringLiteral("variableOptions"));
  options_->setPlaceholderText(tr("comma-separated"));
  min_->setObjectName(QStringLiteral("variableMin"));
  max_->setObjectName(QStringLiteral("variableMax"));
  step_->setObjectName(QStringLiteral("variableStep"));
  default_->setObjectName(QStringLiteral("variableDefault"));
  required_->setObjectName(QStringLiteral("variableRequired"));
  auto* range = new QHBoxLayout;
  range->setContentsMargins(0, 0, 0, 0);
  for (QLineEdit* edit : {min_, max_, step_}) range->addWidget(edit);
  min_->setPlaceholderText(tr("min"));
  max_->setPlaceholderText(tr("max"));
  step_->setPlaceholderText(tr("step"));
  auto* range_box = new QWidget;
  range_box->setLayout(range);
  form_->setContentsMargins(0, 0, 0, 0);
  form_->addRow(tr("Name"), name_);
  form_->addRow(tr("Type"), type_);
  form_->addRow(tr("Label"), label_);
  form_->addRow(tr("Options"), options_);
  form_->addRow(tr("Range"), range_box);
  form_->addRow(tr("Default"), default_);
  form_->addRow(QString(), required_);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 8);  // room above the splitter's handle
  layout->setSpacing(6);
  layout->addLayout(head);
  layout->addWidget(list_, 1);
  layout->addWidget(editor_);

  connect(add, &QPushButton::clicked, this, [this] { addVariable(); });
  connect(remove_, &QPushButton::clicked, this, &VariablePanel::removeCurrent);
  connect(list_, &QListWidget::currentItemChanged, this, [this] { show_current(); });
  for (auto* e : {name_, label_, options_, min_, max_, step_, default_})
    connect(e, &QLineEdit::textChanged, this, &VariablePanel::store_current);
  connect(type_, &QComboBox::currentIndexChanged, this, [this] {
    update_rows();
    store_current();
  });
  connect(required_, &QCheckBox::toggled, this, &VariablePanel::store_current);
  show_current();
}

json VariablePanel::variables() const {
  json out = json::array();
  for (int i = 0; i < list_->count(); ++i)
    out.push_back(json::parse(list_->item(i)->data(Qt::UserRole).toString().toStdString()));
  return out;
}

void VariablePanel::setVariables(const json& variables) {
  list_->clear();
  for (const auto& v : variables) {
    auto* item = new QListWidgetItem(summary(v));
    item->setData(Qt::UserRole, QString::fromStdString(v.dump()));
    list_->addItem(item);
  }
  if (list_->count()) list_->setCurrentRow(0);
  show_current();
  emit changed();
}

void VariablePanel::addVariable(const json& variable) {
  json v = variable;
  if (!v.is_object()) {
    std::string name;
    for (int n = list_->count() + 1; name.empty(); ++n) {
      name = "variable" + std::to_string(n);
      for (const auto& other : variables())
        if (other.value("name", "") == name) name.clear();
    }
    v = {{"name", name}, {"type", "text"}};
  }
  auto* item = new QListWidgetItem(summary(v));
  item->setData(Qt::UserRole, QString::fromStdString(v.dump()));
  list_->addItem(item);
  list_->setCurrentItem(item);
  emit changed();
}

void VariablePanel::removeCurrent() {
  if (list_->currentRow() < 0) return;
  delete list_->takeItem(list_->currentRow());
  show_current();
  emit changed();
}

void VariablePanel::markError(int row) {
  for (int i = 0; i < list_->count(); ++i)
    list_->item(i)->setData(Qt::ForegroundRole, i == row ? QVariant(QColor(0xd0, 0x3a, 0x3a)) : QVariant());
}

void VariablePanel::update_rows() {
  const QString t = type_->currentText();
  form_->setRowVisible(options_, t == QLatin1String("select"));
  form_->setRowVisible(kRangeRow, t == QLatin1String("number"));
  default_->setPlaceholderText(t == QLatin1String("boolean") ? tr("true or false") : QString());
}

void VariablePanel::show_current() {
  auto* item = list_->currentItem();
  remove_->setEnabled(item != nullptr);
  editor_->setEnabled(item != nullptr);
  loading_ = true;
  const json v = item ? json::parse(item->data(Qt::UserRole).toString().toStdString()) : json::object();
  name_->setText(QString::fromStdString(v.value("name", "")));
  type_->setCurrentText(QString::fromStdString(v.value("type", "text")));
  label_->setText(QString::fromStdString(v.value("label", "")));
  QStringList options;
  if (v.contains("options") && v["options"].is_array())
    for (const auto& o : v["options"]) options << text_of(o);
  options_->setText(options.join(QStringLiteral(", ")));
  min_->setText(text_of(v.value("min", json())));
  max_->setText(text_of(v.value("max", json())));
  step_->setText(text_of(v.value("step", json())));
  default_->setText(text_of(v.value("default", json())));
  required_->setChecked(v.value("required", false));
  update_rows();
  loading_ = false;
}

void VariablePanel::store_current() {
  auto* item = list_->currentItem();
  if (loading_ || !item) return;
  const QString type = type_->currentText();
  json v = {{"name", name_->text().trimmed().toStdString()}, {"type", type.toStdString()}};
  if (!label_->text().isEmpty()) v["label"] = label_->text().toStdString();
  if (type == QLatin1String("select")) {
    json options = json::array();
    for (const QString& o : options_->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
      if (!o.trimmed().isEmpty()) options.push_back(o.trimmed().toStdString());
    v["options"] = options;
  }
  if (type == QLatin1String("number")) {
    if (!min_->text().trimmed().isEmpty()) v["min"] = number_or_text(min_->text());
    if (!max_->text().trimmed().isEmpty()) v["max"] = number_or_text(max_->text());
    if (!step_->text().trimmed().isEmpty()) v["step"] = number_or_text(step_->text());
  }
  const QString d = default_->text();
  if (!d.isEmpty()) {
    if (type == QLatin1String("number"))
      v["default"] = number_or_text(d);
    else if (type == QLatin1String("boolean") &&
             (d.trimmed() == QLatin1String("true") || d.trimmed() == QLatin1String("false")))
      v["default"] = d.trimmed() == QLatin1String("true");
    else
      v["default"] = d.toStdString();
  }
  if (required_->isChecked()) v["required"] = true;
  item->setData(Qt::UserRole, QString::fromStdString(v.dump()));
  item->setText(summary(v));
  emit changed();
}

}  // namespace rmm::desktop
