// rmm-bench-desktop: the desktop app's numbers (issue 15), in one run.
//   1. start: `rmm-desktop --measure-startup` launched N times: the time from
//      the process's start to its first painted window, and its resident
//      memory once idle with no model loaded (median, max).
//   2. speed: the app's generation path (the real Backend and chat widgets,
//      the model host in process) against `rmm run` on the same model, prompt,
//      max tokens, threads and sampling (greedy), alternating them -r times:
//      generation tokens/s (median) and the ratio app / rmm run. The app asks
//      for each token's probability and 5 alternatives (its token view), so
//      `rmm run --json --top-logprobs 5` is the like-for-like peer; plain
//      `rmm run` is shown too.
//   3. responsiveness: while the app's answers stream, a 10 ms timer on the UI
//      thread measures how late the event loop runs it (worst and p99).
// Under the offscreen platform unless QT_QPA_PLATFORM or DISPLAY says otherwise.
#include <sys/resource.h>

#include <QApplication>
#include <QComboBox>
#include <QCommandLineParser>
#include <QDir>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

#include "backend.hpp"
#include "chat_view.hpp"
#include "main_window.hpp"
#include "theme.hpp"

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// CPU time of the calling thread, ms.
double thread_cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

bool wait_for(const std::function<bool()>& done, int ms) {
  QElapsedTimer t;
  t.start();
  while (!done()) {
    if (t.elapsed() > ms) return false;
    // Sleeps until an event comes (a 50 ms timer at least): a spinning wait would take a core.
    QTimer::singleShot(50, [] {});
    QCoreApplication::processEvents(QEventLoop::AllEvents | QEventLoop::WaitForMoreEvents);
  }
  return true;
}

// A private RMM_HOME with `model` linked into its models folder, and XDG_CONFIG_HOME.
struct Home {
  QTemporaryDir home, config;
  bool make(const QString& model) {
    return home.isValid() && config.isValid() && QDir(home.path()).mkpath(QStringLiteral("models")) &&
           QFile::link(QFileInfo(model).absoluteFilePath(),
                       home.filePath(QStringLiteral("models/") + QFileInfo(model).fileName()));
  }
  QProcessEnvironment env() const {
    auto e = QProcessEnvironment::systemEnvironment();
    e.insert(QStringLiteral("RMM_HOME"), home.path());
    e.insert(QStringLiteral("XDG_CONFIG_HOME"), config.path());
    return e;
  }
};

void startup(const Home& home, int runs) {
  std::vector<double> outside, inside, rss_exposed, rss_idle;
  for (int i = 0; i < runs; ++i) {
    QProcess p;
    p.setProcessEnvironment(home.env());
    QElapsedTimer t;
    t.start();
    p.start(QStringLiteral(RMM_DESKTOP_BIN),
            {QStringLiteral("--measure-startup"), QStringLiteral("--theme"), QStringLiteral("light")});
    QByteArray out;
    while (!out.contains("window_exposed_ms") && p.waitForReadyRead(30000)) out += p.readAllStandardOutput();
    outside.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
    p.waitForFinished(30000);
    out += p.readAllStandardOutput();
    auto field = [&](const char* name) {
      const auto m = QRegularExpression(QStringLiteral("%1=([0-9.]+)").arg(QLatin1String(name))).match(out);
      return m.hasMatch() ? m.captured(1).toDouble() : -1.0;
    };
    inside.push_back(field("window_exposed_ms"));
    rss_exposed.push_back(field("rss_exposed_kib") / 1024);
    rss_idle.push_back(field("rss_idle_kib") / 1024);
  }
  std::printf("start, %d launches of rmm-desktop --measure-startup (platform %s):\n", runs,
              qPrintable(QProcessEnvironment::systemEnvironment().value(QStringLiteral("QT_QPA_PLATFORM"))));
  std::printf("  process start -> first painted window: median %.0f ms, max %.0f ms (target < 500)\n",
              median(inside), *std::max_element(inside.begin(), inside.end()));
  std::printf("  launch -> that line read by the bench:  median %.0f ms, max %.0f ms\n", median(outside),
              *std::max_element(outside.begin(), outside.end()));
  std::printf(
      "  resident memory, window shown: median %.1f MiB; idle, models listed, no model loaded: median "
      "%.1f MiB, max %.1f MiB (target < 100)\n",
      median(rss_exposed), median(rss_idle), *std::max_element(rss_idle.begin(), rss_idle.end()));
}

// "generation: 64 tokens in 513.7 ms, 122.6 tok/s" of `rmm run -v`.
// Greedy (--temp 0), as the app's answers here; `extra`: --json --top-logprobs 5, the
// per-token probabilities and alternatives the app's token view asks the engine for.
bool rmm_run(const QString& model, const QString& prompt, int n, int threads, const QStringList& extra,
             double& tps, int& tokens) {
  QProcess p;
  p.setStandardOutputFile(QProcess::nullDevice());
  p.start(QStringLiteral(RMM_BIN),
          QStringList{QStringLiteral("run"), model, prompt, QStringLiteral("-n"), QString::number(n),
                      QStringLiteral("-t"), QString::number(threads), QStringLiteral("--temp"),
                      QStringLiteral("0"), QStringLiteral("-v")} +
              extra);
  if (!p.waitForFinished(300000) || p.exitCode() != 0) return false;
  const auto m =
      QRegularExpression(QStringLiteral("generation: ([0-9]+) tokens in [0-9.]+ ms, ([0-9.]+) tok/s"))
          .match(QString::fromUtf8(p.readAllStandardError()));
  if (!m.hasMatch()) return false;
  tokens = m.captured(1).toInt();
  tps = m.captured(2).toDouble();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY"))
    qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QCommandLineParser cli;
  cli.setApplicationDescription(QStringLiteral("rmm-desktop's start time, memory, speed and responsiveness"));
  cli.addHelpOption();
  cli.addPositionalArgument(QStringLiteral("MODEL"), QStringLiteral("a .gguf file (a chat model)"));
  QCommandLineOption n_opt(QStringLiteral("n"), QStringLiteral("max tokens per answer (default 256)"),
                           QStringLiteral("N"), QStringLiteral("256"));
  QCommandLineOption r_opt(QStringLiteral("r"), QStringLiteral("speed repeats (default 3; 0: none)"),
                           QStringLiteral("R"), QStringLiteral("3"));
  QCommandLineOption s_opt(QStringLiteral("starts"),
                           QStringLiteral("launches measured (default 10; 0: none)"), QStringLiteral("N"),
                           QStringLiteral("10"));
  QCommandLineOption p_opt(QStringLiteral("prompt"), QStringLiteral("the prompt"), QStringLiteral("TEXT"),
                           QStringLiteral("Once upon a time"));
  cli.addOptions({n_opt, r_opt, s_opt, p_opt});
  cli.process(app);
  if (cli.positionalArguments().size() != 1) cli.showHelp(2);
  const QString model = QFileInfo(cli.positionalArguments()[0]).absoluteFilePath();
  const int n = cli.value(n_opt).toInt(), repeats = cli.value(r_opt).toInt(),
            starts = cli.value(s_opt).toInt();
  const QString prompt = cli.value(p_opt);
  const int threads = 0;  // the app's engine uses every hardware thread; so does `rmm run -t 0`

  Home home;
  if (!home.make(model)) {
    std::fprintf(stderr, "cannot make a private RMM_HOME with %s\n", qPrintable(model));
    return 1;
  }
  if (starts > 0) startup(home, starts);
  if (repeats <= 0) return 0;

  // The app, in this process, as rmm-desktop builds it.
  qputenv("RMM_HOME", home.home.path().toUtf8());
  qputenv("XDG_CONFIG_HOME", home.config.path().toUtf8());
  QApplication::setApplicationName(QStringLiteral("rmm-desktop"));
  rmm::desktop::apply_theme(app, rmm::desktop::Theme::Light);
  auto backend = std::make_unique<rmm::desktop::Backend>();
  auto window = std::make_unique<rmm::desktop::MainWindow>(*backend);
  window->resize(1100, 720);
  window->show();
  auto* combo = window->findChild<QComboBox*>(QStringLiteral("modelCombo"));
  const QString stem = QFileInfo(model).completeBaseName();
  if (!combo || !wait_for([&] { return combo->count() > 0; }, 30000)) {
    std::fprintf(stderr, "no models listed\n");
    return 1;
  }
  const int at = combo->findText(stem, Qt::MatchStartsWith);
  if (at < 0 || !window->chat().selectModel(combo->itemText(at))) {
    std::fprintf(stderr, "%s is not listed as a chat model\n", qPrintable(stem));
    return 1;
  }
  rmm::desktop::ChatView& chat = window->chat();
  if (auto* temp = window->findChild<QDoubleSpinBox*>(QStringLiteral("temperature"))) temp->setValue(0.0);
  auto* input = window->findChild<QPlainTextEdit*>(QStringLiteral("messageEdit"));
  auto* send = window->findChild<QPushButton*>(QStringLiteral("sendButton"));

  bool streaming = false;
  double ui_cpu_ms = 0, ui_wall_ms = 0;
  double worst_late = 0, worst_at = 0;  // when the worst tick came, ms after its answer's start
  qint64 answer_start = 0;              // the UI thread's CPU time while answers stream
  std::vector<double> lateness;
  QElapsedTimer clock;
  qint64 last = 0;
  QTimer tick;
  tick.setTimerType(Qt::PreciseTimer);
  tick.setInterval(10);
  QObject::connect(&tick, &QTimer::timeout, [&] {
    const qint64 now = clock.nsecsElapsed();
    if (streaming && last) {
      const double late = std::max(0.0, static_cast<double>(now - last) / 1e6 - 10.0);
      if (late > worst_late) {
        worst_late = late;
        worst_at = static_cast<double>(now - answer_start) / 1e6;
      }
      lateness.push_back(late);
    }
    last = now;
  });
  clock.start();
  tick.start();

  // One answer through the chat's widgets; its timings from the core's generation log.
  auto answer = [&](int max_tokens, double& tps, int& tokens) {
    chat.newChat();
    chat.setMaxTokens(max_tokens);
    int done = 0;
    auto c1 = QObject::connect(&chat, &rmm::desktop::ChatView::answerCompleted, [&] { ++done; });
    auto c2 = QObject::connect(backend.get(), &rmm::desktop::Backend::answerStarted, [&] {
      streaming = true;
      answer_start = clock.nsecsElapsed();
      last = answer_start;  // the timer did not run while `rmm run` (a blocking QProcess) did
    });
    const int64_t before = backend->core().generations()->total();
    input->setPlainText(prompt);
    const double cpu0 = thread_cpu_ms();
    QElapsedTimer wall;
    wall.start();
    send->click();
    const bool ok = wait_for([&] { return done > 0; }, 300000);
    ui_cpu_ms += thread_cpu_ms() - cpu0;
    ui_wall_ms += static_cast<double>(wall.elapsed());
    streaming = false;
    QObject::disconnect(c1);
    QObject::disconnect(c2);
    // The log is thread-safe; the generation was added before the answer completed.
    const auto log = backend->core().generations();
    if (!ok || log->total() != before + 1) return false;
    const auto g = log->last(1).back();
    tps = g.tokens_per_second;
    tokens = g.timings.generated_tokens;
    return true;
  };

  double tps = 0;
  int tokens = 0;
  if (!answer(8, tps, tokens)) {  // loads the model
    std::fprintf(stderr, "the app's first answer failed\n");
    return 1;
  }
  lateness.clear();
  ui_cpu_ms = ui_wall_ms = 0;
  worst_late = 0;
  std::vector<double> app_tps, run_tps, ratios, json_tps, json_ratios;
  const QStringList json{QStringLiteral("--json"), QStringLiteral("--top-logprobs"), QStringLiteral("5")};
  for (int i = 0; i < repeats; ++i) {
    if (!answer(n, tps, tokens)) {
      std::fprintf(stderr, "the app's answer failed\n");
      return 1;
    }
    app_tps.push_back(tps);
    double rtps = 0, jtps = 0;
    int rtokens = 0, jtokens = 0;
    if (!rmm_run(model, prompt, n, threads, {}, rtps, rtokens) ||
        !rmm_run(model, prompt, n, threads, json, jtps, jtokens)) {
      std::fprintf(stderr, "rmm run failed\n");
      return 1;
    }
    run_tps.push_back(rtps);
    ratios.push_back(tps / rtps);
    json_tps.push_back(jtps);
    json_ratios.push_back(tps / jtps);
    std::printf(
        "  run %d: app %.1f tok/s (%d tokens), rmm run %.1f tok/s (%d tokens), rmm run --json "
        "--top-logprobs 5 %.1f tok/s (%d tokens)\n",
        i + 1, tps, tokens, rtps, rtokens, jtps, jtokens);
  }
  std::printf("speed, %s, prompt \"%s\", max %d tokens, all hardware threads, %d repeats (median):\n",
              qPrintable(QFileInfo(model).fileName()), qPrintable(prompt), n, repeats);
  std::printf("%-46s %12s %12s %8s\n", "test (tokens/s)", "rmm-desktop", "rmm run", "ratio");
  std::printf("%-46s %12.1f %12.1f %8.3f\n", "generation, vs rmm run", median(app_tps), median(run_tps),
              median(ratios));
  std::printf("%-46s %12.1f %12.1f %8.3f\n", "generation, vs rmm run --json --top-logprobs 5",
              median(app_tps), median(json_tps), median(json_ratios));
  std::printf(
      "event loop while streaming: %zu ticks of a 10 ms timer, late by p50 %.2f ms, p99 %.2f ms, worst "
      "%.2f ms (target < 50)\n",
      lateness.size(), percentile(lateness, 0.5), percentile(lateness, 0.99),
      lateness.empty() ? 0.0 : *std::max_element(lateness.begin(), lateness.end()));
  std::printf("the worst tick came %.0f ms after its answer started\n", worst_at);
  std::printf("UI thread while streaming: %.0f ms of CPU in %.0f ms (%.0f%% of a core)\n", ui_cpu_ms,
              ui_wall_ms, ui_wall_ms > 0 ? 100.0 * ui_cpu_ms / ui_wall_ms : 0.0);
  window.reset();
  backend.reset();
  return 0;
}
