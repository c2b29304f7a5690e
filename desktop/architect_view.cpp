#include "architect_view.hpp"

#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QShortcut>
#include <QSplitter>
#include <QTextBrowser>
#include <QTimer>
#include <QVBoxLayout>

#include "architect_worker.hpp"
#include "backend.hpp"
#include "block_panel.hpp"
#include "plain_label.hpp"
#include "prompt_preview.hpp"
#include "prompts/catalog.hpp"
#include "prompts/files.hpp"
#include "prompts/render.hpp"
#include "variable_form.hpp"
#include "variable_panel.hpp"

namespace rmm::desktop {

namespace {

using json = nlohmann::json;

// Without a max_tokens in the parameters block, an answer stops here.
constexpr int kDefaultMaxTokens = 512;

struct Listed {
  QString id, name;
  int version = 0;
};

struct VersionInfo {
  int version = 0;
  QString note;
};

QLabel* heading(const QString& text) {
  auto* l = new QLabel(QStringLiteral("<b>%1</b>").arg(text));
  return l;
}

}  // namespace

ArchitectView::ArchitectView(Backend& backend, QWidget* parent)
    : QWidget(parent),
      backend_(backend),
      worker_(new ArchitectWorker(backend.core())),
      blocks_(new BlockPanel),
      variables_(new VariablePanel),
      form_(new VariableForm),
      templates_(new QComboBox),
      versions_(new QComboBox),
      name_(new QLineEdit),
      description_(new QLineEdit),
      note_(new QLineEdit),
      title_(plain_label()),
      error_(plain_label()),
      preview_(new QTextBrowser),
      models_(new QComboBox),
      generate_(new QPushButton(tr("Generate"))),
      stop_(new QPushButton(tr("Stop"))),
      answer_view_(new QPlainTextEdit),
      status_(plain_label()),
      debounce_(new QTimer(this)) {
  worker_->moveToThread(&backend.workerThread());
  // Generation signals arrive queued from the worker (and engine) threads.
  connect(worker_, &ArchitectWorker::tokenArrived, this, [this](const QString& t) {
    answer_ += t;
    answer_view_->moveCursor(QTextCursor::End);
    answer_view_->insertPlainText(t);
  });
  connect(worker_, &ArchitectWorker::started, this,
          [this](const QString& model) { report(tr("Generating with %1…").arg(model)); });
  connect(worker_, &ArchitectWorker::finished, this,
          [this](const QString& text, const QString& reason, int tokens) {
            set_generating(false);
            answer_ = text;
            if (answer_view_->toPlainText() != text) answer_view_->setPlainText(text);
            report(reason == QLatin1String("cancelled")
                       ? tr("Stopped after %n token(s)", nullptr, tokens)
                       : tr("%n token(s), finished (%1)", nullptr, tokens).arg(reason));
            emit generationFinished(text, reason, tokens);
          });
  connect(worker_, &ArchitectWorker::failed, this, [this](const QString& m) {
    set_generating(false);
    report(m, true);
    emit failed(m);
  });

  // Top: what is loaded and where it goes.
  templates_->setObjectName(QStringLiteral("templateCombo"));
  templates_->setMinimumContentsLength(22);
  templates_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  templates_->setPlaceholderText(tr("Stored templates"));
  versions_->setObjectName(QStringLiteral("versionCombo"));
  versions_->setMinimumContentsLength(14);
  versions_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  auto* load = new QPushButton(tr("Load"));
  load->setObjectName(QStringLiteral("loadButton"));
  auto* fresh = new QPushButton(tr("New"));
  fresh->setObjectName(QStringLiteral("newTemplateButton"));
  auto* import = new QPushButton(tr("Import…"));
  import->setObjectName(QStringLiteral("importButton"));
  auto* exprt = new QPushButton(tr("Export…"));
  exprt->setObjectName(QStringLiteral("exportButton"));
  auto* top = new QHBoxLayout;
  top->setSpacing(8);
  top->addWidget(new QLabel(tr("Stored")));
  top->addWidget(templates_, 1);
  top->addWidget(versions_);
  top->addWidget(load);
  top->addWidget(fresh);
  top->addStretch(0);
  top->addWidget(import);
  top->addWidget(exprt);

  name_->setObjectName(QStringLiteral("templateName"));
  name_->setPlaceholderText(tr("Name"));
  description_->setObjectName(QStringLiteral("templateDescription"));
  description_->setPlaceholderText(tr("Description"));
  note_->setObjectName(QStringLiteral("versionNote"));
  note_->setPlaceholderText(tr("What changed (optional)"));
  title_->setObjectName(QStringLiteral("templateVersion"));
  title_->setForegroundRole(QPalette::PlaceholderText);
  auto* save_button = new QPushButton(tr("Save"));
  save_button->setObjectName(QStringLiteral("saveButton"));
  auto* reset_button = new QPushButton(tr("Reset"));
  reset_button->setObjectName(QStringLiteral("resetButton"));
  auto* second = new QHBoxLayout;
  second->setSpacing(8);
  second->addWidget(name_, 2);
  second->addWidget(description_, 3);
  second->addWidget(title_);
  second->addWidget(note_, 2);
  second->addWidget(save_button);
  second->addWidget(reset_button);

  // Middle: the variables and the form made from them.
  auto* values_box = new QWidget;
  auto* values_layout = new QVBoxLayout(values_box);
  values_layout->setContentsMargins(0, 0, 0, 0);
  values_layout->addWidget(heading(tr("Values")));
  auto* scroll = new QScrollArea;
  scroll->setObjectName(QStringLiteral("valuesScroll"));
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setWidget(form_);
  form_->setObjectName(QStringLiteral("variableForm"));
  values_layout->addWidget(scroll, 1);
  auto* middle = new QSplitter(Qt::Vertical);
  middle->addWidget(variables_);
  middle->addWidget(values_box);
  middle->setChildrenCollapsible(false);
  // The definitions and the form share the column evenly.
  middle->setStretchFactor(0, 1);
  middle->setStretchFactor(1, 1);
  middle->setSizes({100, 100});

  // Right: the preview and the run.
  error_->setObjectName(QStringLiteral("architectError"));
  error_->setWordWrap(true);
  error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error_->setStyleSheet(QStringLiteral("color: #d03a3a;"));
  error_->hide();
  preview_->setObjectName(QStringLiteral("previewView"));
  preview_->document()->setDocumentMargin(10);
  preview_->setPlaceholderText(tr("The rendered messages show here."));
  models_->setObjectName(QStringLiteral("architectModelCombo"));
  models_->setMinimumContentsLength(14);
  models_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  models_->setPlaceholderText(tr("No chat model found"));
  generate_->setObjectName(QStringLiteral("generateButton"));
  stop_->setObjectName(QStringLiteral("architectStopButton"));
  stop_->setEnabled(false);
  answer_view_->setObjectName(QStringLiteral("answerView"));
  answer_view_->setReadOnly(true);
  answer_view_->setPlaceholderText(tr("Generate runs the preview on the model; the answer streams here."));
  auto* run_row = new QHBoxLayout;
  run_row->setSpacing(6);
  run_row->addWidget(models_, 1);
  run_row->addWidget(generate_);
  run_row->addWidget(stop_);
  auto* right_top = new QWidget;
  auto* rt = new QVBoxLayout(right_top);
  rt->setContentsMargins(0, 0, 0, 0);
  rt->setSpacing(6);
  rt->addWidget(heading(tr("Preview")));
  rt->addWidget(error_);
  rt->addWidget(preview_, 1);
  auto* right_bottom = new QWidget;
  auto* rb = new QVBoxLayout(right_bottom);
  rb->setContentsMargins(0, 0, 0, 0);
  rb->setSpacing(6);
  rb->addWidget(heading(tr("Answer")));
  rb->addLayout(run_row);
  rb->addWidget(answer_view_, 1);
  auto* right = new QSplitter(Qt::Vertical);
  right->addWidget(right_top);
  right->addWidget(right_bottom);
  right->setChildrenCollapsible(false);

  auto* columns = new QSplitter(Qt::Horizontal);
  columns->setObjectName(QStringLiteral("architectColumns"));
  columns->addWidget(blocks_);
  columns->addWidget(middle);
  columns->addWidget(right);
  columns->setChildrenCollapsible(false);
  columns->setStretchFactor(0, 4);
  columns->setStretchFactor(1, 3);
  columns->setStretchFactor(2, 4);
  columns->setHandleWidth(12);

  status_->setObjectName(QStringLiteral("architectStatus"));
  status_->setForegroundRole(QPalette::PlaceholderText);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(20, 16, 20, 12);
  layout->setSpacing(10);
  layout->addLayout(top);
  layout->addLayout(second);
  layout->addWidget(columns, 1);
  layout->addWidget(status_);

  debounce_->setSingleShot(true);
  debounce_->setInterval(200);
  connect(debounce_, &QTimer::timeout, this, &ArchitectView::refreshPreview);
  connect(blocks_, &BlockPanel::changed, this, &ArchitectView::schedule_preview);
  connect(variables_, &VariablePanel::changed, this, [this] {
    form_->setVariables(variables_->variables());
    schedule_preview();
  });
  connect(form_, &VariableForm::changed, this, &ArchitectView::schedule_preview);
  connect(name_, &QLineEdit::textChanged, this, &ArchitectView::schedule_preview);

  connect(&backend, &Backend::modelsListed, this, &ArchitectView::show_models);
  connect(generate_, &QPushButton::clicked, this, &ArchitectView::generate);
  // Within this screen only: Ctrl+S saves, Ctrl+Enter generates.
  auto* save_key = new QShortcut(QKeySequence::Save, this);
  save_key->setContext(Qt::WidgetWithChildrenShortcut);
  connect(save_key, &QShortcut::activated, this, [this] { save(note_->text()); });
  auto* run_key = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this);
  run_key->setContext(Qt::WidgetWithChildrenShortcut);
  connect(run_key, &QShortcut::activated, this, &ArchitectView::generate);
  generate_->setToolTip(tr("Run the preview on the model (Ctrl+Enter)"));
  save_button->setToolTip(tr("Save a new version (Ctrl+S)"));
  connect(stop_, &QPushButton::clicked, this, &ArchitectView::stop);
  connect(save_button, &QPushButton::clicked, this, [this] { save(note_->text()); });
  connect(reset_button, &QPushButton::clicked, this, &ArchitectView::reset);
  connect(fresh, &QPushButton::clicked, this, [this] {
    snapshot_ = nullptr;
    set_current(QString(), 0);
    reset();
  });
  connect(templates_, &QComboBox::currentIndexChanged, this, &ArchitectView::list_versions);
  connect(load, &QPushButton::clicked, this, [this] {
    if (templates_->currentIndex() >= 0)
      loadTemplate(templates_->currentData().toString(), versions_->currentData().toInt());
  });
  connect(import, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Import a template"), QString(),
                                                      tr("Templates (*.json);;All files (*)"));
    if (!path.isEmpty()) importFile(path);
  });
  connect(exprt, &QPushButton::clicked, this, [this] {
    QString base = name_->text().toLower().replace(QRegularExpression(QStringLiteral("[^a-z0-9]+")),
                                                   QStringLiteral("-"));
    const QString path = QFileDialog::getSaveFileName(this, tr("Export the template"),
                                                      (id_.isEmpty() ? base : id_) + QStringLiteral(".json"),
                                                      tr("Templates (*.json)"));
    if (!path.isEmpty()) exportFile(path);
  });

  reset();
  refreshTemplates();
}

ArchitectView::~ArchitectView() {
  // It lives on the worker thread: deleted there (it cancels what streams).
  QMetaObject::invokeMethod(worker_, &ArchitectWorker::stop, Qt::QueuedConnection);
  worker_->deleteLater();
}

// ---- the template in the editor --------------------------------------------

json ArchitectView::templateJson() const {
  json t = extra_;
  if (!id_.isEmpty()) t["id"] = id_.toStdString();
  t["name"] = name_->text().trimmed().toStdString();
  t["description"] = description_->text().toStdString();
  t["blocks"] = blocks_->blocks();
  t["variables"] = variables_->variables();
  return t;
}

void ArchitectView::setTemplate(const json& t) {
  set_current(QString::fromStdString(t.value("id", "")), t.value("version", 0));
  messages_ = json::array();  // another template's rendering would mislead
  params_ = json::object();
  extra_ = json::object();
  if (t.contains("tags")) extra_["tags"] = t["tags"];
  {
    const QSignalBlocker quiet(name_);
    name_->setText(QString::fromStdString(t.value("name", "")));
  }
  description_->setText(QString::fromStdString(t.value("description", "")));
  variables_->setVariables(t.value("variables", json::array()));
  blocks_->setBlocks(t.value("blocks", json::array()));
  refreshPreview();
}

void ArchitectView::set_current(const QString& id, int version) {
  id_ = id;
  version_ = version;
  title_->setText(id.isEmpty() ? tr("not saved") : tr("%1 · v%2").arg(id).arg(version));
}

// ---- preview ------------------------------------------------------------------

void ArchitectView::schedule_preview() { debounce_->start(); }

void ArchitectView::refreshPreview() {
  debounce_->stop();
  json t = templateJson();
  // A name is only needed to save; the preview works without one.
  if (t["name"].get<std::string>().empty()) t["name"] = "untitled";
  error_field_.clear();
  error_message_.clear();
  int bad_block = -1, bad_variable = -1;
  try {
    const auto parsed = prompts::parse_template(t);
    const auto r = prompts::render(parsed, form_->values());
    messages_ = r.messages;
    params_ = r.params;
  } catch (const prompts::TemplateError& e) {
    error_field_ = QString::fromStdString(e.field());
    error_message_ = QString::fromStdString(e.what());
    static const QRegularExpression indexed(QStringLiteral("^(blocks|variables)\\[(\\d+)\\]"));
    if (const auto m = indexed.match(error_field_); m.hasMatch())
      (m.captured(1) == QLatin1String("blocks") ? bad_block : bad_variable) = m.captured(2).toInt();
    if (error_field_.startsWith(QLatin1String("values."))) {
      const std::string name = error_field_.mid(7).toStdString();
      const json vars = t["variables"];
      for (size_t i = 0; i < vars.size(); ++i)
        if (vars[i].value("name", "") == name) bad_variable = int(i);
    }
  } catch (const std::exception& e) {
    error_message_ = QString::fromStdString(e.what());
  }
  blocks_->markError(bad_block);
  variables_->markError(bad_variable);
  error_->setText(error_message_);
  error_->setVisible(!error_message_.isEmpty());

  // The last good rendering stays in view (dimmed) while the template has an error.
  preview_->setHtml(preview_html(messages_, params_));
  preview_->setEnabled(error_message_.isEmpty());
  emit previewUpdated();
}

QString ArchitectView::previewText() const { return preview_->toPlainText(); }

QString ArchitectView::errorText() const { return error_message_; }

// ---- generation -------------------------------------------------------------

void ArchitectView::show_models(const ModelList& models) {
  const QString current = models_->currentText();
  chat_models_.clear();
  models_->clear();
  for (const auto& m : models) {
    if (m.kind != QLatin1String("chat")) continue;
    chat_models_.push_back(m);
    models_->addItem(m.name);
  }
  if (!current.isEmpty() && models_->findText(current) >= 0) models_->setCurrentText(current);
  if (models_->currentIndex() < 0 && models_->count() > 0)
    models_->setCurrentIndex(0);  // none picked by itself
}

bool ArchitectView::selectModel(const QString& name) {
  const int i = models_->findText(name);
  if (i < 0) return false;
  models_->setCurrentIndex(i);
  return true;
}

void ArchitectView::generate() {
  if (generating_) return;
  refreshPreview();
  if (!error_message_.isEmpty()) return report(tr("Fix the template first: %1").arg(error_message_), true);
  if (messages_.empty()) return report(tr("Nothing to send: add a block with text."), true);
  const int i = models_->currentIndex();
  if (i < 0 || i >= chat_models_.size()) return report(tr("Pick a model first."), true);
  json params = params_;
  if (!params.contains("max_tokens")) params["max_tokens"] = kDefaultMaxTokens;
  answer_.clear();
  answer_view_->clear();
  set_generating(true);
  const ModelEntry m = chat_models_[i];
  const QString messages = QString::fromStdString(messages_.dump());
  const QString p = QString::fromStdString(params.dump());
  QMetaObject::invokeMethod(
      worker_, [w = worker_, m, messages, p] { w->generate(m.path, m.name, messages, p); },
      Qt::QueuedConnection);
}

void ArchitectView::stop() {
  QMetaObject::invokeMethod(worker_, &ArchitectWorker::stop, Qt::QueuedConnection);
}

void ArchitectView::set_generating(bool on) {
  generating_ = on;
  generate_->setEnabled(!on);
  stop_->setEnabled(on);
}

void ArchitectView::report(const QString& message, bool error) {
  status_->setText(message);
  status_->setForegroundRole(error ? QPalette::Text : QPalette::PlaceholderText);
  status_->setStyleSheet(error ? QStringLiteral("color: #d03a3a;") : QString());
}

// ---- store and files ----------------------------------------------------------

void ArchitectView::save(const QString& note) {
  json t = templateJson();
  t["message"] = note.trimmed().toStdString();
  backend_.call(
      this,
      [t](AppCore& core) {
        store::Store& s = core.store();
        auto parsed = prompts::parse_template(t);
        if (parsed.id.empty()) {
          // As the web UI: a second template of one name is a mistake, not a version.
          if (const auto named = prompts::find_by_name(s, parsed.name))
            throw prompts::TemplateError(
                "name", "a template named '" + named->name + "' exists (id '" + named->id +
                            "'): load it to save a new version, or give this one another name");
          parsed.id = prompts::free_id(s, parsed.name);
        }
        return prompts::to_json(prompts::save(s, parsed)).dump();
      },
      [this](const std::string& text) {
        const json stored = json::parse(text);
        snapshot_ = stored;
        set_current(QString::fromStdString(stored["id"].get<std::string>()), stored["version"].get<int>());
        note_->clear();
        report(tr("Saved %1, version %2").arg(id_).arg(version_));
        refreshTemplates();
        emit saved(id_, version_);
      },
      [this](const QString& m) {
        report(tr("Not saved: %1").arg(m), true);
        emit failed(m);
      });
}

void ArchitectView::refreshTemplates() {
  backend_.call(
      this,
      [](AppCore& core) {
        store::Store& s = core.store();
        prompts::seed_starters(s);  // as `rmm serve` does, so both list the same
        std::vector<Listed> out;
        for (const auto& v : s.list_templates())
          out.push_back({QString::fromStdString(v.id), QString::fromStdString(v.name), v.version});
        return out;
      },
      [this](const std::vector<Listed>& list) {
        const QString keep = id_.isEmpty() ? templates_->currentData().toString() : id_;
        {
          const QSignalBlocker quiet(templates_);
          templates_->clear();
          for (const auto& l : list) templates_->addItem(QStringLiteral("%1  (%2)").arg(l.name, l.id), l.id);
          templates_->setCurrentIndex(std::max(0, templates_->findData(keep)));
        }
        list_versions();
        emit templatesListed();
      },
      [this](const QString& m) { report(m, true); });
}

QStringList ArchitectView::templateIds() const {
  QStringList out;
  for (int i = 0; i < templates_->count(); ++i) out << templates_->itemData(i).toString();
  return out;
}

QList<int> ArchitectView::versionsShown() const {
  QList<int> out;
  for (int i = 0; i < versions_->count(); ++i)
    if (versions_->itemData(i).toInt() > 0) out << versions_->itemData(i).toInt();
  return out;
}

void ArchitectView::list_versions() {
  const QString id = templates_->currentData().toString();
  if (id.isEmpty()) {
    versions_->clear();
    return;
  }
  backend_.call(
      this,
      [id](AppCore& core) {
        std::vector<VersionInfo> out;
        for (const auto& v : core.store().template_versions(id.toStdString())) {
          QString note;
          try {
            note = QString::fromStdString(prompts::from_stored(v).message);
          } catch (const prompts::TemplateError&) {
          }
          out.push_back({v.version, note});
        }
        return out;
      },
      [this, id](const std::vector<VersionInfo>& list) {
        if (templates_->currentData().toString() != id) return;  // another one was picked meanwhile
        versions_->clear();
        versions_->addItem(tr("latest"), 0);
        for (auto it = list.rbegin(); it != list.rend(); ++it)
          versions_->addItem(it->note.isEmpty() ? tr("v%1").arg(it->version)
                                                : tr("v%1 — %2").arg(it->version).arg(it->note.left(40)),
                             it->version);
        emit versionsListed();
      },
      [this](const QString& m) { report(m, true); });
}

void ArchitectView::loadTemplate(const QString& id, int version) {
  backend_.call(
      this,
      [id, version](AppCore& core) {
        const auto v = core.store().get_template(id.toStdString(),
                                                 version > 0 ? std::optional<int>(version) : std::nullopt);
        if (!v)
          throw Error(ErrorKind::NotFound, version > 0 ? "template '" + id.toStdString() +
                                                             "' has no version " + std::to_string(version)
                                                       : "no template '" + id.toStdString() + "'");
        return prompts::to_json(prompts::from_stored(*v)).dump();
      },
      [this](const std::string& text) {
        const json t = json::parse(text);
        snapshot_ = t;
        setTemplate(t);
        answer_view_->clear();
        report(tr("Loaded %1, version %2").arg(id_).arg(version_));
        emit loaded(id_, version_);
      },
      [this](const QString& m) {
        report(m, true);
        emit failed(m);
      });
}

void ArchitectView::reset() {
  if (snapshot_.is_object()) {
    setTemplate(snapshot_);
    return;
  }
  setTemplate({{"name", ""},
               {"blocks", json::array({{{"type", "system"}, {"text", "You are a helpful assistant."}},
                                       {{"type", "user"}, {"text", ""}}})},
               {"variables", json::array()}});
}

void ArchitectView::importFile(const QString& path) {
  backend_.call(
      this, [path](AppCore&) { return prompts::to_json(prompts::import_file(path.toStdString())).dump(); },
      [this, path](const std::string& text) {
        const json t = json::parse(text);
        // Saving it adds a version to the template of its id (or creates that one).
        setTemplate(t);
        report(tr("Imported %1: Save stores it").arg(path));
        emit imported(path);
      },
      [this](const QString& m) {
        report(tr("Not imported: %1").arg(m), true);
        emit failed(m);
      });
}

void ArchitectView::exportFile(const QString& path) {
  prompts::Template t;
  try {
    t = prompts::parse_template(templateJson());
    t.version = version_;
  } catch (const prompts::TemplateError& e) {
    report(tr("Not exported: %1").arg(QString::fromUtf8(e.what())), true);
    emit failed(QString::fromUtf8(e.what()));
    return;
  }
  backend_.call(
      this, [t, path](AppCore&) { prompts::export_file(t, path.toStdString()); },
      [this, path] {
        report(tr("Exported to %1").arg(path));
        emit exported(path);
      },
      [this](const QString& m) {
        report(tr("Not exported: %1").arg(m), true);
        emit failed(m);
      });
}

}  // namespace rmm::desktop
