#pragma once
// Beside the Models table: the selected model's metadata, and what loading
// it takes (the memory planner's figures per device with the host's
// settings, the context it would get, the idle models it would unload), with
// a "will not fit" warning instead of a Load button when it does not fit.
// Load and Unload go to the model host on the worker thread.
#include <QWidget>
#include <atomic>
#include <memory>

#include "model_details.hpp"

class QFormLayout;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTimer;

namespace rmm::desktop {

class Backend;

class ModelDetailsPanel : public QWidget {
  Q_OBJECT

 public:
  explicit ModelDetailsPanel(Backend& backend, QWidget* parent = nullptr);

  // Shows the model at `path` ("" : none) and asks for its load plan.
  void showModel(const QString& path);
  // Loads the model shown with the context asked for; the host refuses what does not fit.
  void load();
  void unload();
  // Tokens per conversation to ask for (0: the host's choice).
  void setContext(int tokens);
  // Asks the host for the plan again (what is loaded changed).
  void refreshPlan() { ask_plan(); }

  const ModelDetails& details() const { return details_; }
  const LoadPlan& plan() const { return plan_; }
  bool planReady() const { return plan_ready_; }
  bool busy() const { return busy_; }
  QString message() const;  // the warning or error in view ("" when none)

 signals:
  // The host's loaded models changed (by name).
  void loadedChanged(const QStringList& names);
  // A load of the model named `name` started ("" : it ended).
  void loadingChanged(const QString& name);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void ask_plan();
  void show_details();
  void show_plan();
  void show_warning(const QString& text);
  void set_busy(bool busy);
  void style_warning();

  Backend& backend_;
  QString path_;
  ModelDetails details_;
  LoadPlan plan_;
  bool plan_ready_ = false;
  bool busy_ = false;
  int selection_ = 0;   // details for an earlier selection are dropped
  int generation_ = 0;  // and plans asked before the latest

  QLabel* name_;
  QLabel* path_label_;
  QFormLayout* meta_;
  QList<QLabel*> values_;
  int label_width_ = 0;  // the metadata rows, in the order of show_details()
  QLabel* plan_label_;
  QSpinBox* context_;
  QWidget* warning_;
  QLabel* warning_icon_;
  QLabel* warning_text_;
  QPushButton* load_;
  QPushButton* unload_;
  QProgressBar* progress_;
  QTimer* progress_timer_;
  std::shared_ptr<std::atomic<float>> load_progress_;
};

}  // namespace rmm::desktop
