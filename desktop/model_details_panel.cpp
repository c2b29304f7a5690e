#include "model_details_panel.hpp"

#include <QEvent>
#include <QFormLayout>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QStyle>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>

#include "backend.hpp"
#include "model_table.hpp"
#include "plain_label.hpp"
#include "theme.hpp"

namespace rmm::desktop {

namespace {

const char* const kRows[] = {
    "Name in file", "Architecture",  "Parameters", "Quantization", "Trained context", "Layers",
    "Embedding",    "Chat template", "Kind",       "File size",    "SHA-256"};

QString number(qint64 n) { return n > 0 ? format_number(n) : QStringLiteral("–"); }
QString or_dash(const QString& s) { return s.isEmpty() ? QStringLiteral("–") : s; }

QLabel* section_title(const QString& text) {
  auto* l = new QLabel(text);
  QFont f = l->font();
  f.setBold(true);
  l->setFont(f);
  return l;
}

}  // namespace

ModelDetailsPanel::ModelDetailsPanel(Backend& backend, QWidget* parent)
    : QWidget(parent),
      backend_(backend),
      name_(plain_label()),
      path_label_(plain_label()),
      meta_(new QFormLayout),
      plan_label_(new QLabel),
      context_(new QSpinBox),
      warning_(new QFrame),
      warning_icon_(new QLabel),
      warning_text_(plain_label()),
      load_(new QPushButton(tr("Load"))),
      unload_(new QPushButton(tr("Unload"))),
      progress_(new QProgressBar),
      progress_timer_(new QTimer(this)),
      load_progress_(std::make_shared<std::atomic<float>>(0.0f)) {
  setObjectName(QStringLiteral("modelDetails"));
  name_->setObjectName(QStringLiteral("detailsName"));
  QFont f = name_->font();
  f.setPointSizeF(f.pointSizeF() * 1.2);
  f.setBold(true);
  name_->setFont(f);
  name_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  path_label_->setObjectName(QStringLiteral("detailsPath"));
  path_label_->setForegroundRole(QPalette::PlaceholderText);
  path_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  path_label_->setWordWrap(true);

  meta_->setLabelAlignment(Qt::AlignLeft);
  meta_->setHorizontalSpacing(16);
  meta_->setVerticalSpacing(4);
  // One label column for the metadata, the context and the plan, so that their values line up.
  for (const char* row : kRows)
    label_width_ = std::max(label_width_, fontMetrics().horizontalAdvance(tr(row)));
  for (const char* row : kRows) {
    auto* value = plain_label();
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* label = new QLabel(tr(row));
    label->setForegroundRole(QPalette::PlaceholderText);
    label->setFixedWidth(label_width_);
    meta_->addRow(label, value);
    values_ << value;
  }
  values_.last()->setObjectName(QStringLiteral("detailsSha"));

  context_->setObjectName(QStringLiteral("loadContext"));
  context_->setRange(0, 1 << 24);
  context_->setSingleStep(1024);
  context_->setSpecialValueText(tr("Automatic"));
  context_->setSuffix(tr(" tokens"));
  context_->setGroupSeparatorShown(true);
  auto* context_row = new QFormLayout;
  context_row->setHorizontalSpacing(16);
  auto* context_label = new QLabel(tr("Context"));
  context_label->setForegroundRole(QPalette::PlaceholderText);
  context_label->setFixedWidth(label_width_);
  context_row->addRow(context_label, context_);

  plan_label_->setObjectName(QStringLiteral("loadPlan"));
  plan_label_->setTextFormat(Qt::RichText);
  plan_label_->setWordWrap(true);

  warning_->setObjectName(QStringLiteral("fitWarning"));
  auto* warning_layout = new QHBoxLayout(warning_);
  warning_layout->setContentsMargins(10, 8, 10, 8);
  warning_layout->setSpacing(10);
  const int icon = style()->pixelMetric(QStyle::PM_SmallIconSize);
  warning_icon_->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(icon, icon));
  warning_icon_->setAlignment(Qt::AlignTop);
  warning_text_->setObjectName(QStringLiteral("fitWarningText"));
  warning_text_->setWordWrap(true);
  warning_text_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  warning_layout->addWidget(warning_icon_);
  warning_layout->addWidget(warning_text_, 1);
  warning_->setAutoFillBackground(true);
  warning_->hide();
  style_warning();

  load_->setObjectName(QStringLiteral("loadModel"));
  unload_->setObjectName(QStringLiteral("unloadModel"));
  progress_->setObjectName(QStringLiteral("loadProgress"));
  progress_->setRange(0, 100);
  progress_->setTextVisible(false);
  progress_->setMaximumHeight(6);
  progress_->hide();
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(load_);
  buttons->addWidget(unload_);
  buttons->addStretch(1);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(16, 4, 4, 4);
  layout->setSpacing(8);
  layout->addWidget(name_);
  layout->addWidget(path_label_);
  layout->addSpacing(4);
  layout->addLayout(meta_);
  layout->addSpacing(10);
  layout->addWidget(section_title(tr("Load")));
  layout->addLayout(context_row);
  layout->addWidget(plan_label_);
  layout->addWidget(warning_);
  layout->addLayout(buttons);
  layout->addWidget(progress_);
  layout->addStretch(1);

  connect(load_, &QPushButton::clicked, this, &ModelDetailsPanel::load);
  connect(unload_, &QPushButton::clicked, this, &ModelDetailsPanel::unload);
  connect(context_, &QSpinBox::editingFinished, this, &ModelDetailsPanel::ask_plan);
  // The load reports from the worker thread into an atomic; the bar reads it here.
  progress_timer_->setInterval(100);
  connect(progress_timer_, &QTimer::timeout, this,
          [this] { progress_->setValue(static_cast<int>(load_progress_->load() * 100.0f)); });
  showModel(QString());
}

void ModelDetailsPanel::showModel(const QString& path) {
  path_ = path;
  ++selection_;
  ++generation_;
  details_ = ModelDetails{};
  plan_ = LoadPlan{};
  plan_ready_ = false;
  show_details();
  show_plan();
  if (path.isEmpty()) return;
  const int selection = selection_;
  backend_.call(
      this, [path](AppCore& core) { return read_details(core, path); },
      [this, selection](const ModelDetails& d) {
        if (selection != selection_) return;
        details_ = d;
        show_details();
      },
      [this, selection](const QString& m) {
        if (selection == selection_) show_warning(m);
      });
  ask_plan();
}

void ModelDetailsPanel::setContext(int tokens) {
  context_->setValue(tokens);
  ask_plan();
}

void ModelDetailsPanel::ask_plan() {
  if (path_.isEmpty()) return;
  const int generation = ++generation_;
  plan_ready_ = false;
  backend_.call(
      this, [path = path_, n = context_->value()](AppCore& core) { return preview_load(core, path, n); },
      [this, generation](const LoadPlan& p) {
        if (generation != generation_) return;
        plan_ = p;
        plan_ready_ = true;
        show_plan();
      },
      [this, generation](const QString& m) {
        if (generation != generation_) return;
        plan_ = LoadPlan{};
        plan_ready_ = true;
        show_plan();
        show_warning(m);
      });
}

void ModelDetailsPanel::load() {
  if (path_.isEmpty() || busy_) return;
  set_busy(true);
  load_progress_->store(0.0f);
  progress_->setValue(0);
  progress_->show();
  progress_timer_->start();
  emit loadingChanged(details_.name);
  backend_.call(
      this,
      [path = path_, n = context_->value(), progress = load_progress_](AppCore& core) {
        serving::UseOptions use;
        use.local = true;  // the user picked it from the library
        use.num_ctx = n;
        core.host().acquire(path.toStdString(), use, [progress](float p) { progress->store(p); });
        return loaded_models(core);
      },
      [this](const QStringList& loaded) {
        progress_timer_->stop();
        progress_->hide();
        set_busy(false);
        emit loadingChanged(QString());
        emit loadedChanged(loaded);
        ask_plan();
      },
      [this](const QString& m) {
        progress_timer_->stop();
        progress_->hide();
        set_busy(false);
        emit loadingChanged(QString());
        show_warning(tr("Not loaded: %1").arg(m));
      });
}

void ModelDetailsPanel::unload() {
  if (!plan_.loaded || busy_) return;
  set_busy(true);
  backend_.call(
      this,
      [id = plan_.id](AppCore& core) {
        core.host().unload(id.toStdString());
        return loaded_models(core);
      },
      [this](const QStringList& loaded) {
        set_busy(false);
        emit loadedChanged(loaded);
        ask_plan();
      },
      [this](const QString& m) {
        set_busy(false);
        show_warning(m);
      });
}

QString ModelDetailsPanel::message() const {
  return warning_->isVisible() ? warning_text_->text() : QString();
}

void ModelDetailsPanel::show_details() {
  const ModelDetails& d = details_;
  name_->setText(path_.isEmpty() ? tr("No model selected") : or_dash(d.name));
  path_label_->setText(d.path);
  path_label_->setVisible(!d.path.isEmpty());
  const QString values[] = {
      or_dash(d.title),
      or_dash(d.architecture),
      d.parameters > 0
          ? number(d.parameters) + QStringLiteral(" (") + format_count(d.parameters) + QLatin1Char(')')
          : QStringLiteral("–"),
      or_dash(d.quantization),
      d.context > 0 ? number(d.context) + tr(" tokens") : QStringLiteral("–"),
      number(d.layers),
      number(d.embedding),
      d.path.isEmpty() ? QStringLiteral("–")
      : d.chatTemplate ? tr("yes")
                       : tr("no"),
      or_dash(d.kind),
      d.size > 0 ? format_bytes(d.size) + QStringLiteral(" (") + number(d.size) + tr(" bytes)")
                 : QStringLiteral("–"),
      d.sha256.isEmpty() ? (d.path.isEmpty() ? QStringLiteral("–") : tr("not computed yet"))
                         : d.sha256.left(16) + QStringLiteral("…")};
  for (int i = 0; i < values_.size(); ++i) values_[i]->setText(values[i]);
  values_.last()->setToolTip(d.sha256);
  if (!d.error.isEmpty()) show_warning(d.error);
}

void ModelDetailsPanel::show_plan() {
  const LoadPlan& p = plan_;
  warning_->hide();
  if (path_.isEmpty() || !plan_ready_) {
    plan_label_->setText(path_.isEmpty() ? QString() : tr("Planning…"));
    load_->setEnabled(false);
    unload_->setEnabled(false);
    return;
  }
  // A small table: the planner's figures per device, then the context and what would go.
  QString html = QStringLiteral("<table cellspacing='0' cellpadding='0'>");
  const QString dim = palette().color(QPalette::PlaceholderText).name();
  const QString first = QString::number(label_width_ + 16);
  auto row = [&](const QString& label, const QString& value) {
    html += QStringLiteral("<tr><td width='%1' style='color:%2; padding-bottom:4px'>%3</td><td>%4</td></tr>")
                .arg(first, dim, label, value);
  };
  const QString status = p.loaded ? tr("<b>Loaded</b>, it holds:") : tr("A load needs:");
  html += QStringLiteral("<tr><td colspan='2' style='padding-bottom:6px'>%1</td></tr>").arg(status);
  for (const auto& d : p.devices) {
    const QString value =
        p.loaded ? format_bytes(d.needed)
                 : tr("%1 of %2 available").arg(format_bytes(d.needed), format_bytes(d.available));
    row(d.name.toHtmlEscaped(), value);
  }
  if (p.maxLayers > 0) row(tr("GPU layers"), tr("%1 of %2").arg(p.gpuLayers).arg(p.maxLayers));
  if (p.context > 0) {
    QString ctx = format_number(p.context) + tr(" tokens");
    if (p.conversations > 1) ctx += tr(" × %1 conversations").arg(p.conversations);
    if (p.trained > 0) ctx += tr(" (trained on %1)").arg(format_number(p.trained));
    row(tr("Context"), ctx);
  }
  if (!p.loaded && p.fits)
    row(tr("Unloads first"),
        p.evict.isEmpty() ? tr("nothing") : p.evict.join(QStringLiteral(", ")).toHtmlEscaped());
  html += QStringLiteral("</table>");
  plan_label_->setText(html);
  if (!p.fits && !p.refusal.isEmpty()) show_warning(tr("Will not fit: %1").arg(p.refusal));
  load_->setEnabled(!busy_ && p.fits && !p.loaded);
  unload_->setEnabled(!busy_ && p.loaded);
}

void ModelDetailsPanel::show_warning(const QString& text) {
  warning_text_->setText(text);
  warning_->show();
}

void ModelDetailsPanel::set_busy(bool busy) {
  busy_ = busy;
  load_->setEnabled(!busy && plan_ready_ && plan_.fits && !plan_.loaded);
  unload_->setEnabled(!busy && plan_ready_ && plan_.loaded);
  context_->setEnabled(!busy);
}

void ModelDetailsPanel::style_warning() {
  // A tinted box that reads in both themes: amber on light, a dark amber on dark.
  const bool dark = is_dark(palette());
  QPalette p = warning_->palette();
  p.setColor(QPalette::Window, dark ? QColor(0x4a, 0x35, 0x12) : QColor(0xfd, 0xf0, 0xd5));
  p.setColor(QPalette::WindowText, dark ? QColor(0xf5, 0xdc, 0xa8) : QColor(0x6b, 0x45, 0x00));
  warning_->setPalette(p);
  warning_text_->setPalette(p);
}

void ModelDetailsPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::ApplicationPaletteChange) {
    style_warning();
    if (plan_ready_) show_plan();  // its labels' colour is in the text
  }
  QWidget::changeEvent(event);
}

}  // namespace rmm::desktop
