#pragma once
// The form generated from a template's variables, one field per variable:
// text -> QLineEdit, multiline -> QPlainTextEdit, select -> QComboBox,
// number -> QSlider over min..max by step (its value shown beside it),
// boolean -> QCheckBox. Rebuilt when the definitions change; values the user
// gave survive a rebuild where the variable (name and type) still exists.
#include <QWidget>
#include <nlohmann/json.hpp>

class QFormLayout;

namespace rmm::desktop {

class VariableForm : public QWidget {
  Q_OBJECT

 public:
  explicit VariableForm(QWidget* parent = nullptr);

  // Rebuilds the fields when `variables` differ from the ones shown.
  void setVariables(const nlohmann::json& variables);
  // {name: value} for the render: typed values; an empty text field is left
  // out, so that the variable's default (or its required error) applies.
  nlohmann::json values() const;
  // The field of variable `name` ("value_NAME"), or null.
  QWidget* field(const QString& name) const;

 signals:
  void changed();

 private:
  QWidget* make_field(const nlohmann::json& v, const nlohmann::json& value);

  QFormLayout* form_;
  nlohmann::json shown_ = nlohmann::json::array();  // the definitions the fields were built from
};

}  // namespace rmm::desktop
