#pragma once
// The Models screen: the library (the registry's models in a table, the
// selected one's metadata and load plan beside it, Load / Unload), the
// Hugging Face tab (search, download) and the Folders tab (add, remove).
#include <QWidget>

#include "model_entry.hpp"

class QLabel;
class QTableView;
class QTabWidget;

namespace rmm::desktop {

class Backend;
class FolderView;
class HubView;
class ModelDetailsPanel;
class ModelTable;

class ModelsView : public QWidget {
  Q_OBJECT

 public:
  enum Tab { Library, HuggingFace, Folders };

  explicit ModelsView(Backend& backend, QWidget* parent = nullptr);
  const ModelTable& table() const { return *table_; }
  ModelDetailsPanel& details() { return *details_; }
  HubView& hub() { return *hub_; }
  FolderView& folders() { return *folders_; }
  void showTab(Tab tab);
  // Selects the model named `name` in the library; false when it is not listed.
  bool selectModel(const QString& name);

 private:
  void show_models(const ModelList& models);
  void refresh_loaded();
  void selection_changed();

  Backend& backend_;
  ModelTable* table_;
  QTableView* view_;
  QLabel* summary_;
  QTabWidget* tabs_;
  ModelDetailsPanel* details_;
  HubView* hub_;
  FolderView* folders_;
  QString selected_;  // the selected model's name, kept across refreshes
};

}  // namespace rmm::desktop
