#pragma once
// The Prompt Architect screen (issue 15): a template built from blocks
// (system, context, user, examples, parameters; reordered by drag and drop or
// Alt+Up/Down) and typed variables with the form generated from them; a live
// preview of the rendered messages (the core's prompts::render, debounced,
// errors shown naming the field); Generate on a registry chat model, streamed,
// with Stop; Save (a new version each time, with an optional note), Load (a
// template and a version), Reset, Import and Export of the JSON file the web
// UI reads and writes. Templates live in the store `rmm serve` uses, so the
// web UI and /api/prompts/templates see the same ones.
#include <QString>
#include <QWidget>
#include <nlohmann/json.hpp>

#include "model_entry.hpp"

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTextBrowser;
class QTimer;

namespace rmm::desktop {

class ArchitectWorker;
class Backend;
class BlockPanel;
class VariableForm;
class VariablePanel;

class ArchitectView : public QWidget {
  Q_OBJECT

 public:
  explicit ArchitectView(Backend& backend, QWidget* parent = nullptr);
  ~ArchitectView() override;

  BlockPanel& blocks() { return *blocks_; }
  VariablePanel& variables() { return *variables_; }
  VariableForm& form() { return *form_; }

  // The editor's template in the shared JSON shape (id only once it has one).
  nlohmann::json templateJson() const;
  // Puts a template into the editor (nothing is stored).
  void setTemplate(const nlohmann::json& t);
  const QString& currentId() const { return id_; }
  int currentVersion() const { return version_; }

  // Renders now (typing renders after a short pause).
  void refreshPreview();
  const nlohmann::json& previewMessages() const { return messages_; }
  const nlohmann::json& previewParams() const { return params_; }
  QString previewText() const;
  QString errorText() const;  // "" when the template renders
  const QString& errorField() const { return error_field_; }

  bool selectModel(const QString& name);
  void generate();
  void stop();
  const QString& answer() const { return answer_; }

  // Store actions: each is queued to the worker thread and ends with its signal (or failed()).
  void save(const QString& note = QString());
  void refreshTemplates();
  QStringList templateIds() const;                        // in the Load list
  QList<int> versionsShown() const;                       // of the template picked in the Load list
  void loadTemplate(const QString& id, int version = 0);  // 0: the latest
  void reset();  // back to the last saved or loaded version, else empty
  void importFile(const QString& path);
  void exportFile(const QString& path);

 signals:
  void previewUpdated();
  void generationFinished(const QString& text, const QString& reason, int tokens);
  void saved(const QString& id, int version);
  void templatesListed();
  void versionsListed();
  void loaded(const QString& id, int version);
  void imported(const QString& path);
  void exported(const QString& path);
  void failed(const QString& message);

 private:
  void schedule_preview();
  void show_models(const ModelList& models);
  void list_versions();
  void set_generating(bool on);
  void report(const QString& message, bool error = false);
  void set_current(const QString& id, int version);

  Backend& backend_;
  ArchitectWorker* worker_;  // lives on the backend's worker thread
  BlockPanel* blocks_;
  VariablePanel* variables_;
  VariableForm* form_;
  QComboBox* templates_;
  QComboBox* versions_;
  QLineEdit* name_;
  QLineEdit* description_;
  QLineEdit* note_;
  QLabel* title_;
  QLabel* error_;
  QTextBrowser* preview_;
  QComboBox* models_;
  QPushButton* generate_;
  QPushButton* stop_;
  QPlainTextEdit* answer_view_;
  QLabel* status_;
  QTimer* debounce_;
  nlohmann::json messages_ = nlohmann::json::array();
  nlohmann::json params_ = nlohmann::json::object();
  nlohmann::json extra_ = nlohmann::json::object();  // fields the editor does not show (tags)
  nlohmann::json snapshot_;                          // the last saved or loaded template; null: none
  QString error_field_;
  QString error_message_;
  QString id_;
  int version_ = 0;
  QString answer_;
  ModelList chat_models_;
  bool generating_ = false;
};

}  // namespace rmm::desktop
