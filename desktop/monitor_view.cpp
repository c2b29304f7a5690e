#include "monitor_view.hpp"

#include <QDateTime>
#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "backend.hpp"
#include "chart_line.hpp"
#include "core/clock.hpp"
#include "padded_cell_delegate.hpp"
#include "plain_label.hpp"

namespace rmm::desktop {

QString format_bytes(uint64_t bytes) {
  const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  if (mib < 1024.0) return QStringLiteral("%1 MiB").arg(mib, 0, 'f', 0);
  return QStringLiteral("%1 GiB").arg(mib / 1024.0, 0, 'f', 2);
}

QString format_speed(double tokens_per_second) {
  return QStringLiteral("%1 tok/s").arg(tokens_per_second, 0, 'f', 1);
}

QString format_ms(double ms) {
  if (ms < 1000.0) return QStringLiteral("%1 ms").arg(ms, 0, 'f', 0);
  return QStringLiteral("%1 s").arg(ms / 1000.0, 0, 'f', 2);
}

namespace {

// Series colours readable on the light and the dark base alike.
const QColor kBlue(0x3b, 0x7d, 0xea);
const QColor kOrange(0xe8, 0x83, 0x2a);
const QColor kGreen(0x2f, 0xa8, 0x6b);
const QColor kPurple(0x9b, 0x5c, 0xe0);

// A card: a small caption over a large figure and a detail line.
QFrame* card(const QString& caption, QLabel* figure, QLabel* detail = nullptr) {
  auto* frame = new QFrame;
  frame->setObjectName(QStringLiteral("monitorCard"));
  frame->setFrameShape(QFrame::StyledPanel);
  frame->setAutoFillBackground(true);
  frame->setBackgroundRole(QPalette::Base);
  auto* layout = new QVBoxLayout(frame);
  layout->setContentsMargins(14, 10, 14, 10);
  layout->setSpacing(2);
  auto* label = new QLabel(caption);
  label->setForegroundRole(QPalette::PlaceholderText);
  layout->addWidget(label);
  QFont f = figure->font();
  f.setPointSizeF(f.pointSizeF() * 1.35);
  f.setBold(true);
  figure->setFont(f);
  figure->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(figure);
  if (detail) {
    detail->setForegroundRole(QPalette::PlaceholderText);
    detail->setWordWrap(true);
    layout->addWidget(detail);
  }
  layout->addStretch(1);
  return frame;
}

QLabel* named(const char* name, const QString& text = QStringLiteral("–")) {
  auto* l = plain_label(text);
  l->setObjectName(QLatin1String(name));
  return l;
}

double gib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0); }

}  // namespace

MonitorView::MonitorView(Backend& backend, QWidget* parent)
    : QWidget(parent),
      backend_(backend),
      timer_(new QTimer(this)),
      sampler_(std::make_shared<std::unique_ptr<models::UsageSampler>>()),
      speed_(named("lastSpeed")),
      ttft_(named("lastTtft")),
      minute_(named("minuteLabel", tr("No generation in the last minute"))),
      ram_(named("ramLabel")),
      app_(named("appRamLabel")),
      vram_(named("vramLabel")),
      loaded_(named("loadedLabel", tr("No model loaded"))),
      speed_chart_(new LineChart(tr("Generation speed"))),
      memory_chart_(new LineChart(tr("Memory"))),
      table_(new QTreeWidget) {
  auto* title = new QLabel(tr("Monitor"));
  QFont tf = title->font();
  tf.setPointSizeF(tf.pointSizeF() * 1.3);
  tf.setBold(true);
  title->setFont(tf);
  loaded_->setForegroundRole(QPalette::PlaceholderText);
  minute_->setForegroundRole(QPalette::PlaceholderText);
  auto* header = new QHBoxLayout;
  header->setSpacing(16);
  header->addWidget(title);
  header->addStretch(1);
  header->addWidget(minute_);
  header->addWidget(loaded_);

  auto* ram_detail = named("ramDetail", QString());
  auto* app_detail = named("appRamDetail", QString());
  auto* speed_detail = named("lastSpeedDetail", QString());
  auto* vram_detail = named("vramDetail", QString());
  auto* ttft_detail = named("lastTtftDetail", QString());
  auto* cards = new QGridLayout;
  cards->setSpacing(10);
  cards->addWidget(card(tr("Last generation"), speed_, speed_detail), 0, 0);
  cards->addWidget(card(tr("Time to first token"), ttft_, ttft_detail), 0, 1);
  cards->addWidget(card(tr("RAM (system)"), ram_, ram_detail), 0, 2);
  cards->addWidget(card(tr("This app"), app_, app_detail), 0, 3);
  cards->addWidget(card(tr("VRAM"), vram_, vram_detail), 0, 4);
  for (int c = 0; c < 5; ++c) cards->setColumnStretch(c, 1);

  speed_chart_->setObjectName(QStringLiteral("speedChart"));
  speed_chart_->setFormatter([](double v) { return QString::number(v, 'f', v == 0 || v >= 10 ? 0 : 1); });
  speed_chart_->setCaption(tr("tokens/s of the last %1 generations").arg(kGenerations));
  speed_chart_->setEmptyText(tr("No generation yet: chat or run the Prompt Architect"));
  memory_chart_->setObjectName(QStringLiteral("memoryChart"));
  memory_chart_->setFormatter([](double v) {
    return QStringLiteral("%1 GiB").arg(v, 0, 'f', v == 0 ? 0 : v < 1 ? 2 : v < 10 ? 1 : 0);
  });
  memory_chart_->setCaption(tr("the last two minutes"));
  auto* charts = new QHBoxLayout;
  charts->setSpacing(10);
  charts->addWidget(speed_chart_, 1);
  charts->addWidget(memory_chart_, 1);

  table_->setObjectName(QStringLiteral("generationsTable"));
  table_->setRootIsDecorated(false);
  table_->setUniformRowHeights(true);
  table_->setAlternatingRowColors(true);
  table_->setItemDelegate(
      new PaddedCellDelegate(table_->fontMetrics().horizontalAdvance(QLatin1Char('M')) / 2, table_));
  table_->setHeaderLabels(
      {tr("Ended"), tr("Model"), tr("Prompt tokens"), tr("Generated"), tr("Speed"), tr("First token")});
  table_->header()->setStretchLastSection(false);
  table_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->header()->setSectionResizeMode(1, QHeaderView::Stretch);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(20, 16, 20, 16);
  layout->setSpacing(12);
  layout->addLayout(header);
  layout->addLayout(cards);
  layout->addLayout(charts, 3);
  layout->addWidget(table_, 2);

  timer_->setInterval(1000);
  connect(timer_, &QTimer::timeout, this, &MonitorView::refresh);
  timer_->start();
  refresh();
}

MonitorView::~MonitorView() = default;

void MonitorView::refresh() {
  if (in_flight_) return;
  in_flight_ = true;
  backend_.call(
      this,
      [sampler = sampler_](AppCore& core) {
        MonitorSnapshot s;
        serving::ModelHost& host = core.host();
        if (!*sampler)
          *sampler = std::make_unique<models::UsageSampler>(true, [&host] { return host.worker_pids(); });
        s.usage = (*sampler)->next();
        s.generations = core.generations()->last(kGenerations);
        s.generations_total = core.generations()->total();
        s.last_minute = host.recent()->summary(unix_ms());
        for (const auto& m : host.loaded()) s.loaded.push_back(m->id);
        return s;
      },
      [this](MonitorSnapshot s) {
        in_flight_ = false;
        show_snapshot(std::move(s));
      },
      [this](const QString& message) {
        in_flight_ = false;
        loaded_->setText(tr("Monitor: %1").arg(message));
      });
}

void MonitorView::show_snapshot(MonitorSnapshot s) {
  snapshot_ = std::move(s);
  const MonitorSnapshot& s_ = snapshot_;

  if (!s_.generations.empty()) {
    const GenerationSample& g = s_.generations.back();
    speed_->setText(format_speed(g.tokens_per_second));
    findChild<QLabel*>(QStringLiteral("lastSpeedDetail"))
        ->setText(tr("%1 tokens · %2").arg(g.timings.generated_tokens).arg(QString::fromStdString(g.model)));
    ttft_->setText(format_ms(g.time_to_first_token_ms));
    findChild<QLabel*>(QStringLiteral("lastTtftDetail"))
        ->setText(tr("%1 prompt tokens in %2")
                      .arg(g.timings.prompt_tokens)
                      .arg(format_ms(g.timings.prompt_ms)
                               .replace(QLatin1Char(' '), QChar(0x00a0))));  // "9 ms" on one line
  }
  const auto& m = s_.last_minute;
  if (m.requests > 0) {
    QString text =
        m.requests == 1 ? tr("Last minute: 1 generation") : tr("Last minute: %1 generations").arg(m.requests);
    if (m.generation_tokens_per_second)
      text += QStringLiteral(" · ") + format_speed(*m.generation_tokens_per_second);
    if (m.time_to_first_token_ms)
      text += QStringLiteral(" · ") + tr("first token %1 (median)").arg(format_ms(*m.time_to_first_token_ms));
    minute_->setText(text);
  } else {
    minute_->setText(tr("No generation in the last minute"));
  }
  QStringList loaded;
  for (const auto& name : s_.loaded) loaded << QString::fromStdString(name);
  loaded_->setText(loaded.isEmpty() ? tr("No model loaded")
                                    : tr("Loaded: %1").arg(loaded.join(QStringLiteral(", "))));

  if (s_.usage) {
    const models::UsageSample& u = *s_.usage;
    history_.push_back(u);
    while (history_.size() > kHistory) history_.pop_front();
    ram_->setText(tr("%1 used").arg(format_bytes(u.ram_used)));
    findChild<QLabel*>(QStringLiteral("ramDetail"))
        ->setText(tr("of %1, %2 available").arg(format_bytes(u.ram_total), format_bytes(u.ram_available)));
    app_->setText(format_bytes(u.process_rss + u.workers_rss));
    findChild<QLabel*>(QStringLiteral("appRamDetail"))
        ->setText(u.workers > 0
                      ? tr("this process %1, %n model worker(s) %2", nullptr, u.workers)
                            .arg(format_bytes(u.process_rss), format_bytes(u.workers_rss))
                      : tr("this process, models included · CPU %1%").arg(u.process_cpu, 0, 'f', 0));
    if (u.gpus.empty()) {
      vram_->setText(tr("No GPU"));
      findChild<QLabel*>(QStringLiteral("vramDetail"))->setText(tr("models run on the CPU, in RAM"));
    } else {
      uint64_t used = 0, total = 0;
      QStringList lines;
      for (const auto& g : u.gpus) {
        used += g.memory_used;
        total += g.memory_total;
        lines << tr("%1: %2 of %3")
                     .arg(QString::fromStdString(g.name), format_bytes(g.memory_used),
                          format_bytes(g.memory_total));
      }
      vram_->setText(tr("%1 used").arg(format_bytes(used)));
      findChild<QLabel*>(QStringLiteral("vramDetail"))->setText(lines.join(QLatin1Char('\n')));
    }
  }

  // Charts: tokens/s per generation; memory over time (system RAM, this app, each GPU).
  LineChart::Series speed{tr("tokens/s"), kBlue, {}};
  for (const auto& g : s_.generations) speed.values.push_back(g.tokens_per_second);
  speed_chart_->setSeries({speed});
  LineChart::Series ram{tr("RAM used"), kBlue, {}}, app{tr("this app"), kOrange, {}};
  QVector<LineChart::Series> memory;
  for (const auto& u : history_) {
    ram.values.push_back(gib(u.ram_used));
    app.values.push_back(gib(u.process_rss + u.workers_rss));
  }
  memory << ram << app;
  if (!history_.isEmpty()) {
    const QColor gpu_colors[] = {kGreen, kPurple};
    for (size_t d = 0; d < history_.back().gpus.size() && d < 2; ++d) {
      LineChart::Series v{QString::fromStdString(history_.back().gpus[d].name), gpu_colors[d], {}};
      for (const auto& u : history_) v.values.push_back(d < u.gpus.size() ? gib(u.gpus[d].memory_used) : 0.0);
      memory << v;
    }
  }
  memory_chart_->setSeries(memory);

  // The table: newest first.
  table_->clear();
  for (auto it = s_.generations.crbegin(); it != s_.generations.crend(); ++it) {
    const auto& t = it->timings;
    auto* row =
        new QTreeWidgetItem({QDateTime::fromMSecsSinceEpoch(t.end_ms).toString(QStringLiteral("HH:mm:ss")),
                             QString::fromStdString(it->model), QString::number(t.prompt_tokens),
                             QString::number(t.generated_tokens), format_speed(it->tokens_per_second),
                             format_ms(it->time_to_first_token_ms)});
    for (int c = 2; c < 6; ++c) row->setTextAlignment(c, Qt::AlignRight | Qt::AlignVCenter);
    table_->addTopLevelItem(row);
  }
  emit refreshed();
}

}  // namespace rmm::desktop
