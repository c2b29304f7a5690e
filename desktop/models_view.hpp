#pragma once
// The Models screen: the registry's library in a table.
#include <QWidget>

#include "model_entry.hpp"

class QLabel;
class QTableView;

namespace rmm::desktop {

class Backend;
class ModelTable;

class ModelsView : public QWidget {
  Q_OBJECT

 public:
  explicit ModelsView(Backend& backend, QWidget* parent = nullptr);
  const ModelTable& table() const { return *table_; }

 private:
  void show_models(const ModelList& models);

  ModelTable* table_;
  QTableView* view_;
  QLabel* summary_;
};

}  // namespace rmm::desktop
