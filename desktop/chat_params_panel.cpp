#include "chat_params_panel.hpp"

#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QPlainTextEdit>
#include <QSettings>
#include <QSpinBox>
#include <limits>

#include "engine/sampling.hpp"

namespace rmm::desktop {

ChatParamsPanel::ChatParamsPanel(QWidget* parent)
    : QFrame(parent),
      system_(new QPlainTextEdit),
      temperature_(new QDoubleSpinBox),
      top_p_(new QDoubleSpinBox),
      max_tokens_(new QSpinBox),
      seed_(new QSpinBox) {
  setObjectName(QStringLiteral("chatParams"));
  setFrameShape(QFrame::StyledPanel);
  system_->setObjectName(QStringLiteral("systemPrompt"));
  system_->setPlaceholderText(tr("System prompt (none)"));
  system_->setTabChangesFocus(true);
  system_->setFixedHeight(system_->fontMetrics().lineSpacing() * 3 + 12);
  // The engine's sampling defaults (engine::SamplingParams).
  const engine::SamplingParams defaults;
  temperature_->setObjectName(QStringLiteral("temperature"));
  temperature_->setRange(0.0, 2.0);
  temperature_->setSingleStep(0.1);
  temperature_->setDecimals(2);
  temperature_->setValue(defaults.temperature);
  temperature_->setToolTip(tr("0: always the most likely token"));
  top_p_->setObjectName(QStringLiteral("topP"));
  top_p_->setRange(0.0, 1.0);
  top_p_->setSingleStep(0.05);
  top_p_->setDecimals(2);
  top_p_->setValue(defaults.top_p);
  max_tokens_->setObjectName(QStringLiteral("maxTokens"));
  max_tokens_->setRange(-1, 1 << 20);
  max_tokens_->setSpecialValueText(tr("no limit"));
  max_tokens_->setValue(512);
  seed_->setObjectName(QStringLiteral("seed"));
  seed_->setRange(-1, std::numeric_limits<int>::max());
  seed_->setSpecialValueText(tr("random"));
  seed_->setValue(-1);
  seed_->setToolTip(tr("The same seed and settings give the same answer"));

  // The last settings come back on the next start (QSettings, under XDG_CONFIG_HOME).
  QSettings settings;
  system_->setPlainText(settings.value(QStringLiteral("chat/system")).toString());
  temperature_->setValue(
      settings.value(QStringLiteral("chat/temperature"), temperature_->value()).toDouble());
  top_p_->setValue(settings.value(QStringLiteral("chat/top_p"), top_p_->value()).toDouble());
  max_tokens_->setValue(settings.value(QStringLiteral("chat/max_tokens"), max_tokens_->value()).toInt());
  seed_->setValue(settings.value(QStringLiteral("chat/seed"), seed_->value()).toInt());
  auto save = [this] {
    QSettings s;
    s.setValue(QStringLiteral("chat/system"), system_->toPlainText());
    s.setValue(QStringLiteral("chat/temperature"), temperature_->value());
    s.setValue(QStringLiteral("chat/top_p"), top_p_->value());
    s.setValue(QStringLiteral("chat/max_tokens"), max_tokens_->value());
    s.setValue(QStringLiteral("chat/seed"), seed_->value());
  };
  connect(system_, &QPlainTextEdit::textChanged, this, save);
  connect(temperature_, &QDoubleSpinBox::valueChanged, this, save);
  connect(top_p_, &QDoubleSpinBox::valueChanged, this, save);
  connect(max_tokens_, &QSpinBox::valueChanged, this, save);
  connect(seed_, &QSpinBox::valueChanged, this, save);

  auto* numbers = new QFormLayout;
  numbers->setLabelAlignment(Qt::AlignRight);
  numbers->setHorizontalSpacing(8);
  numbers->setVerticalSpacing(6);
  numbers->addRow(tr("Temperature"), temperature_);
  numbers->addRow(tr("Top p"), top_p_);
  auto* numbers2 = new QFormLayout;
  numbers2->setLabelAlignment(Qt::AlignRight);
  numbers2->setHorizontalSpacing(8);
  numbers2->setVerticalSpacing(6);
  numbers2->addRow(tr("Max tokens"), max_tokens_);
  numbers2->addRow(tr("Seed"), seed_);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(10, 8, 10, 8);
  layout->setSpacing(14);
  layout->addWidget(system_, 1);
  layout->addLayout(numbers);
  layout->addLayout(numbers2);
}

ChatParams ChatParamsPanel::params() const {
  ChatParams p;
  p.system = system_->toPlainText().trimmed().toStdString();
  p.temperature = static_cast<float>(temperature_->value());
  p.top_p = static_cast<float>(top_p_->value());
  p.max_tokens = max_tokens_->value();
  p.seed = seed_->value();
  return p;
}

void ChatParamsPanel::setMaxTokens(int n) { max_tokens_->setValue(n); }

}  // namespace rmm::desktop
