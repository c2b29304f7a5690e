#include "variable_form.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSlider>
#include <cmath>

#include "plain_label.hpp"

namespace rmm::desktop {

namespace {

using json = nlohmann::json;

QString name_of(const json& v) { return QString::fromStdString(v.value("name", "")); }

double num(const json& v, const char* key, double fallback) {
  return v.contains(key) && v[key].is_number() ? v[key].get<double>() : fallback;
}

json typed_number(double d) {
  if (d == std::floor(d) && std::fabs(d) < 1e15) return int64_t(d);
  return d;
}

QString number_text(double d) { return QString::number(d, 'g', 12); }

// A slider moves in whole steps: it holds the step count from min, its
// properties say how to turn that back into the number.
double slider_number(const QSlider* s) {
  return s->property("rmmMin").toDouble() + s->value() * s->property("rmmStep").toDouble();
}

}  // namespace

VariableForm::VariableForm(QWidget* parent) : QWidget(parent), form_(new QFormLayout(this)) {
  form_->setContentsMargins(0, 0, 0, 0);
  form_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
}

QWidget* VariableForm::field(const QString& name) const {
  return findChild<QWidget*>(QStringLiteral("value_") + name);
}

void VariableForm::setVariables(const json& variables) {
  if (variables == shown_) return;
  // Keep what was typed for the variables that stay as they were.
  const json before = values();
  json kept = json::object();
  for (const auto& v : variables) {
    const std::string name = v.value("name", "");
    for (const auto& old : shown_)
      if (old.value("name", "") == name && old.value("type", "") == v.value("type", "") &&
          before.contains(name))
        kept[name] = before[name];
  }
  while (form_->rowCount()) form_->removeRow(0);
  shown_ = variables;
  for (const auto& v : variables) {
    const std::string name = v.value("name", "");
    if (name.empty()) continue;
    const QString label = QString::fromStdString(v.value("label", name));
    auto* f = make_field(v, kept.contains(name) ? kept[name] : v.value("default", json()));
    form_->addRow(plain_label(label + (v.value("required", false) ? QStringLiteral(" *") : QString())), f);
  }
  if (form_->rowCount() == 0) {
    auto* none = new QLabel(tr("No variables: add one, and use it in a block as {{name}}."));
    none->setWordWrap(true);
    none->setForegroundRole(QPalette::PlaceholderText);
    form_->addRow(none);
  }
  emit changed();
}

QWidget* VariableForm::make_field(const json& v, const json& value) {
  const std::string type = v.value("type", "text");
  const QString object = QStringLiteral("value_") + name_of(v);
  const QString text = value.is_string() ? QString::fromStdString(value.get<std::string>()) : QString();
  if (type == "multiline") {
    auto* e = new QPlainTextEdit(text);
    e->setObjectName(object);
    e->setTabChangesFocus(true);
    e->setFixedHeight(e->fontMetrics().lineSpacing() * 3 + 14);
    connect(e, &QPlainTextEdit::textChanged, this, &VariableForm::changed);
    return e;
  }
  if (type == "select") {
    auto* c = new QComboBox;
    c->setObjectName(object);
    if (!v.value("required", false)) c->addItem(QString());  // none: the default applies
    if (v.contains("options"))
      for (const auto& o : v["options"])
        if (o.is_string()) c->addItem(QString::fromStdString(o.get<std::string>()));
    if (!text.isEmpty()) c->setCurrentText(text);
    connect(c, &QComboBox::currentIndexChanged, this, &VariableForm::changed);
    return c;
  }
  if (type == "number") {
    const double lo = num(v, "min", 0);
    const double hi = std::max(lo, num(v, "max", lo + 100));
    const double step = num(v, "step", 1) > 0 ? num(v, "step", 1) : 1;
    auto* s = new QSlider(Qt::Horizontal);
    s->setObjectName(object);
    s->setProperty("rmmMin", lo);
    s->setProperty("rmmStep", step);
    s->setRange(0, int(std::floor((hi - lo) / step + 1e-9)));
    s->setValue(int(std::lround((num({{"x", value}}, "x", lo) - lo) / step)));
    auto* shown = new QLabel(number_text(slider_number(s)));
    shown->setObjectName(object + QStringLiteral("_shown"));
    shown->setMinimumWidth(shown->fontMetrics().horizontalAdvance(number_text(hi)) + 8);
    shown->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    connect(s, &QSlider::valueChanged, this, [this, s, shown] {
      shown->setText(number_text(slider_number(s)));
      emit changed();
    });
    auto* box = new QWidget;
    auto* row = new QHBoxLayout(box);
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(s, 1);
    row->addWidget(shown);
    return box;
  }
  if (type == "boolean") {
    auto* c = new QCheckBox;
    c->setObjectName(object);
    c->setChecked(value.is_boolean() && value.get<bool>());
    connect(c, &QCheckBox::toggled, this, &VariableForm::changed);
    return c;
  }
  auto* e = new QLineEdit(text);
  e->setObjectName(object);
  connect(e, &QLineEdit::textChanged, this, &VariableForm::changed);
  return e;
}

json VariableForm::values() const {
  json out = json::object();
  for (const auto& v : shown_) {
    const QString name = name_of(v);
    QWidget* f = name.isEmpty() ? nullptr : field(name);
    if (!f) continue;
    const std::string key = name.toStdString();
    if (auto* e = qobject_cast<QLineEdit*>(f)) {
      if (!e->text().isEmpty()) out[key] = e->text().toStdString();
    } else if (auto* p = qobject_cast<QPlainTextEdit*>(f)) {
      if (!p->toPlainText().isEmpty()) out[key] = p->toPlainText().toStdString();
    } else if (auto* c = qobject_cast<QComboBox*>(f)) {
      if (!c->currentText().isEmpty()) out[key] = c->currentText().toStdString();
    } else if (auto* s = qobject_cast<QSlider*>(f)) {
      out[key] = typed_number(slider_number(s));
    } else if (auto* b = qobject_cast<QCheckBox*>(f)) {
      out[key] = b->isChecked();
    }
  }
  return out;
}

}  // namespace rmm::desktop
