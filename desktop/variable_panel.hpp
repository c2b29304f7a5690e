#pragma once
// The Architect's variable definitions: a list (Add, Remove) and the editor of
// the one in view: name, type (text, multiline, select, number, boolean),
// label, options (select), min/max/step (number), default and required.
// Each list item keeps its variable in the template JSON shape (Qt::UserRole);
// what the user typed is kept as typed, so validation names the bad field.
#include <QWidget>
#include <nlohmann/json.hpp>

class QCheckBox;
class QComboBox;
class QFormLayout;
class QLineEdit;
class QListWidget;
class QPushButton;

namespace rmm::desktop {

class VariablePanel : public QWidget {
  Q_OBJECT

 public:
  explicit VariablePanel(QWidget* parent = nullptr);

  nlohmann::json variables() const;  // [{name, type, ...}]
  void setVariables(const nlohmann::json& variables);
  // Adds a variable (a fresh "variableN" of type text when `variable` is null).
  void addVariable(const nlohmann::json& variable = nullptr);
  void removeCurrent();
  void markError(int row);  // -1: none

  QListWidget* list() const { return list_; }

 signals:
  void changed();

 private:
  void show_current();
  void store_current();
  void update_rows();  // the rows the current type uses

  QListWidget* list_;
  QPushButton* remove_;
  QWidget* editor_;
  QFormLayout* form_;
  QLineEdit* name_;
  QComboBox* type_;
  QLineEdit* label_;
  QLineEdit* options_;
  QLineEdit* min_;
  QLineEdit* max_;
  QLineEdit* step_;
  QLineEdit* default_;
  QCheckBox* required_;
  bool loading_ = false;
};

}  // namespace rmm::desktop
